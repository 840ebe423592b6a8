"""Norvig's spelling corrector, run over a list of misspelt words.

What it does: builds Norvig's word-frequency model (WORDS, P) from an embedded
public-domain text, then calls correction(word) for each word of a list of
misspellings; correction() calls candidates(), known(), edits1(), edits2()
and P() thousands of times per word.

Source: norvig/pytudes, py/spell.py (commit 40376fb899171321d5d63435be5c14085aa47229),
licence MIT ("Copyright (c) 2007-2016 Peter Norvig", see the repository's LICENSE).
Embedded text: Mary Shelley, "Frankenstein", Letter 1 (public domain), copied from
python/pyperformance, pyperformance/data-files/benchmarks/bm_bpe_tokeniser/data/
frankenstein_intro.txt (licence MIT).

What I changed: WORDS is built from the embedded TEXT instead of open('big.txt');
the spelling-corrector functions are copied unchanged; the unit tests, spelltest()
and Testset() are replaced by items(), which makes misspellings deterministically
(random.Random(seed)) by applying one or two random edits to words of the
dictionary, and main(), which loops over them calling correction().

SHAPE: a single module-level function of one argument (correction) whose cost is
spread over many small inner helper calls (edits1, known, P, ...), called once per
item from a plain for loop.
"""

################ Spelling Corrector

import random
import re
import sys
from collections import Counter

HOT = "correction"

TEXT = """\
Letter 1
To Mrs. Saville, England.

St. Petersburgh, Dec. 11th, 17—.

You will rejoice to hear that no disaster has accompanied the commencement of an enterprise which you have regarded with such evil forebodings. I arrived here yesterday, and my first task is to assure my dear sister of my welfare and increasing confidence in the success of my undertaking.

I am already far north of London, and as I walk in the streets of Petersburgh, I feel a cold northern breeze play upon my cheeks, which braces my nerves and fills me with delight. Do you understand this feeling? This breeze, which has travelled from the regions towards which I am advancing, gives me a foretaste of those icy climes. Inspirited by this wind of promise, my daydreams become more fervent and vivid. I try in vain to be persuaded that the pole is the seat of frost and desolation; it ever presents itself to my imagination as the region of beauty and delight. There, Margaret, the sun is for ever visible, its broad disk just skirting the horizon and diffusing a perpetual splendour. There—for with your leave, my sister, I will put some trust in preceding navigators—there snow and frost are banished; and, sailing over a calm sea, we may be wafted to a land surpassing in wonders and in beauty every region hitherto discovered on the habitable globe. Its productions and features may be without example, as the phenomena of the heavenly bodies undoubtedly are in those undiscovered solitudes. What may not be expected in a country of eternal light? I may there discover the wondrous power which attracts the needle and may regulate a thousand celestial observations that require only this voyage to render their seeming eccentricities consistent for ever. I shall satiate my ardent curiosity with the sight of a part of the world never before visited, and may tread a land never before imprinted by the foot of man. These are my enticements, and they are sufficient to conquer all fear of danger or death and to induce me to commence this laborious voyage with the joy a child feels when he embarks in a little boat, with his holiday mates, on an expedition of discovery up his native river. But supposing all these conjectures to be false, you cannot contest the inestimable benefit which I shall confer on all mankind, to the last generation, by discovering a passage near the pole to those countries, to reach which at present so many months are requisite; or by ascertaining the secret of the magnet, which, if at all possible, can only be effected by an undertaking such as mine.

These reflections have dispelled the agitation with which I began my letter, and I feel my heart glow with an enthusiasm which elevates me to heaven, for nothing contributes so much to tranquillise the mind as a steady purpose—a point on which the soul may fix its intellectual eye. This expedition has been the favourite dream of my early years. I have read with ardour the accounts of the various voyages which have been made in the prospect of arriving at the North Pacific Ocean through the seas which surround the pole. You may remember that a history of all the voyages made for purposes of discovery composed the whole of our good Uncle Thomas’ library. My education was neglected, yet I was passionately fond of reading. These volumes were my study day and night, and my familiarity with them increased that regret which I had felt, as a child, on learning that my father’s dying injunction had forbidden my uncle to allow me to embark in a seafaring life.

These visions faded when I perused, for the first time, those poets whose effusions entranced my soul and lifted it to heaven. I also became a poet and for one year lived in a paradise of my own creation; I imagined that I also might obtain a niche in the temple where the names of Homer and Shakespeare are consecrated. You are well acquainted with my failure and how heavily I bore the disappointment. But just at that time I inherited the fortune of my cousin, and my thoughts were turned into the channel of their earlier bent.

Six years have passed since I resolved on my present undertaking. I can, even now, remember the hour from which I dedicated myself to this great enterprise. I commenced by inuring my body to hardship. I accompanied the whale-fishers on several expeditions to the North Sea; I voluntarily endured cold, famine, thirst, and want of sleep; I often worked harder than the common sailors during the day and devoted my nights to the study of mathematics, the theory of medicine, and those branches of physical science from which a naval adventurer might derive the greatest practical advantage. Twice I actually hired myself as an under-mate in a Greenland whaler, and acquitted myself to admiration. I must own I felt a little proud when my captain offered me the second dignity in the vessel and entreated me to remain with the greatest earnestness, so valuable did he consider my services.

And now, dear Margaret, do I not deserve to accomplish some great purpose? My life might have been passed in ease and luxury, but I preferred glory to every enticement that wealth placed in my path. Oh, that some encouraging voice would answer in the affirmative! My courage and my resolution is firm; but my hopes fluctuate, and my spirits are often depressed. I am about to proceed on a long and difficult voyage, the emergencies of which will demand all my fortitude: I am required not only to raise the spirits of others, but sometimes to sustain my own, when theirs are failing.

This is the most favourable period for travelling in Russia. They fly quickly over the snow in their sledges; the motion is pleasant, and, in my opinion, far more agreeable than that of an English stagecoach. The cold is not excessive, if you are wrapped in furs—a dress which I have already adopted, for there is a great difference between walking the deck and remaining seated motionless for hours, when no exercise prevents the blood from actually freezing in your veins. I have no ambition to lose my life on the post-road between St. Petersburgh and Archangel.

I shall depart for the latter town in a fortnight or three weeks; and my intention is to hire a ship there, which can easily be done by paying the insurance for the owner, and to engage as many sailors as I think necessary among those who are accustomed to the whale-fishing. I do not intend to sail until the month of June; and when shall I return? Ah, dear sister, how can I answer this question? If I succeed, many, many months, perhaps years, will pass before you and I may meet. If I fail, you will see me again soon, or never.

Farewell, my dear, excellent Margaret. Heaven shower down blessings on you, and save me, that I may again and again testify my gratitude for all your love and kindness.

Your affectionate brother,
R. Walton
"""

def words(text): return re.findall(r'\w+', text.lower())

WORDS = Counter(words(TEXT))

def P(word, N=sum(WORDS.values())): 
    "Probability of `word`."
    return float(WORDS[word]) / N

def correction(word): 
    "Most probable spelling correction for word."
    return max(candidates(word), key=P)

def candidates(word): 
    "Generate possible spelling corrections for word."
    return (known([word]) or known(edits1(word)) or known(edits2(word)) or [word])

def known(words): 
    "The subset of `words` that appear in the dictionary of WORDS."
    return set(w for w in words if w in WORDS)

def edits1(word):
    "All edits that are one edit away from `word`."
    letters    = 'abcdefghijklmnopqrstuvwxyz'
    splits     = [(word[:i], word[i:])    for i in range(len(word) + 1)]
    deletes    = [L + R[1:]               for L, R in splits if R]
    transposes = [L + R[1] + R[0] + R[2:] for L, R in splits if len(R)>1]
    replaces   = [L + c + R[1:]           for L, R in splits if R for c in letters]
    inserts    = [L + c + R               for L, R in splits for c in letters]
    return set(deletes + transposes + replaces + inserts)

def edits2(word): 
    "All edits that are two edits away from `word`."
    return (e2 for e1 in edits1(word) for e2 in edits1(e1))

################ Benchmark driver (not in the original)

N_ONE_EDIT = 400   # misspellings one edit away (cheap: edits1 finds a candidate)
N_TWO_EDITS = 20   # misspellings two edits away (dear: edits2 is searched)


def _misspell(word, rng):
    "Apply one random delete, transpose, replace or insert to `word`."
    letters = 'abcdefghijklmnopqrstuvwxyz'
    i = rng.randrange(len(word))
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1 and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 2:
        return word[:i] + rng.choice(letters) + word[i + 1:]
    return word[:i] + rng.choice(letters) + word[i:]


def items(scale=1):
    "Deterministic list of misspelt words (scale times as many for scale > 1)."
    rng = random.Random(20160101)
    vocab = sorted(w for w in WORDS if len(w) >= 4 and w.isalpha())
    wrong = []
    for _ in range(N_ONE_EDIT * scale):
        wrong.append(_misspell(rng.choice(vocab), rng))
    long_vocab = [w for w in vocab if 5 <= len(w) <= 7]
    for _ in range(N_TWO_EDITS * scale):
        wrong.append(_misspell(_misspell(rng.choice(long_vocab), rng), rng))
    rng.shuffle(wrong)
    return wrong


def main(scale=1):
    wrong = items(scale)
    fixed = []
    for word in wrong:
        fixed.append(correction(word))
    changed = sum(1 for w, c in zip(wrong, fixed) if w != c)
    print('words={} dictionary={} changed={} sample={}'.format(
        len(wrong), len(WORDS), changed, list(zip(wrong, fixed))[:4]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
