"""Documentation-site link audit: for each of a handful of site sections,
compute PageRank over its internal link graph (pure-Python power iteration)
and report the most central pages and the orphaned ones."""
import random
import sys

HOT = "rank_section"


def rank_section(section):
    """section = (name, links) where links[i] is a list of page ids page i links to."""
    name, links = section
    n = len(links)
    damping = 0.85
    rank = [1.0 / n] * n
    out_deg = [len(l) for l in links]
    for _ in range(60):
        new = [(1.0 - damping) / n] * n
        dangling = 0.0
        for i in range(n):
            r = rank[i]
            if out_deg[i] == 0:
                dangling += r
                continue
            share = damping * r / out_deg[i]
            for j in links[i]:
                new[j] += share
        spread = damping * dangling / n
        rank = [x + spread for x in new]
    inbound = [0] * n
    for l in links:
        for j in l:
            inbound[j] += 1
    top = sorted(range(n), key=lambda i: (-rank[i], i))[:5]
    return {
        "section": name,
        "pages": n,
        "top": tuple((i, round(rank[i], 8)) for i in top),
        "orphans": sum(1 for c in inbound if c == 0),
    }


def items(scale):
    rng = random.Random(64)
    names = ["api", "guides", "howto", "faq", "cli", "reference", "tutorials",
             "internals", "release-notes", "plugins", "security", "deploy",
             "migration", "glossary", "examples", "community"]
    sections = []
    for k in range(4 * scale):
        n = rng.randint(520, 820)
        links = []
        for i in range(n):
            deg = rng.choice((0, 2, 3, 4, 5, 6, 8, 10))
            # preferential links to low-numbered (index/landing) pages
            links.append(sorted({min(n - 1, int(rng.paretovariate(1.2)) - 1 + (0 if rng.random() < 0.5 else rng.randrange(n)))
                                 for _ in range(deg)}))
        sections.append((names[k % len(names)], links))
    return sections


def main(scale):
    xs = items(scale)
    report = [rank_section(s) for s in xs]
    orphans = sum(r["orphans"] for r in report)
    pages = sum(r["pages"] for r in report)
    print(f"audited {len(report)} sections, {pages} pages, {orphans} orphans")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
