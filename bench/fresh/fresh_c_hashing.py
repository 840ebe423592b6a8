"""Derive per-tenant archive keys with PBKDF2-HMAC-SHA256 and then fingerprint
a multi-megabyte key-expanded payload with BLAKE2b keyed by the derived key,
returning a short hex fingerprint per tenant.  Kind: C-level hashing work
(hashlib, which releases the GIL on large inputs and inside PBKDF2)."""
import hashlib
import sys

HOT = "fingerprint_tenant"


def fingerprint_tenant(spec):
    tenant, iterations, payload_mb = spec
    salt = hashlib.sha256(("salt:" + tenant).encode()).digest()
    key = hashlib.pbkdf2_hmac("sha256", tenant.encode(), salt, iterations, dklen=64)
    block = key * 16384                       # 1 MiB built from the key
    payload = block * payload_mb
    mac = hashlib.blake2b(payload, key=key[:32], digest_size=20).hexdigest()
    tail = hashlib.sha512(payload[-4096:] + key).hexdigest()[:12]
    return (tenant, mac, tail)


def items(scale=1):
    specs = []
    for k in range(12 * scale):
        tenant = f"tenant-{(k * 2654435761) % 100003:05d}"
        iterations = 20_000 + 5_000 * (k % 4)
        payload_mb = 8 + 4 * (k % 3)
        specs.append((tenant, iterations, payload_mb))
    return specs


def main(scale=1):
    xs = items(scale)
    results = [fingerprint_tenant(x) for x in xs]
    combined = hashlib.sha1("".join(m for _, m, _ in results).encode()).hexdigest()
    print(f"{len(results)} tenants fingerprinted, combined {combined[:16]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
