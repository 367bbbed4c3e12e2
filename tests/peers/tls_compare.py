#!/usr/bin/env python3
"""Compare `shakedown tls --json` with sslscan --xml or nmap ssl-enum-ciphers -oX.
usage: tls_compare.py sslscan|nmap|nmap-order OURS.json OTHER.xml SRCDIR
Prints both sets and the difference; exits 1 when they differ."""
import json, sys, xml.etree.ElementTree as ET

mode, ours_path, other_path, srcdir = sys.argv[1:5]
ours = json.load(open(ours_path))
iana = {}
for line in open(srcdir + "/src/proto/tls/data/iana-cipher-suites.txt"):
    if line.strip() and not line.startswith("#"):
        code, name = line.split()
        iana[name] = int(code, 16)

def show(pairs):
    return sorted("%s 0x%04X" % p for p in pairs)

mine = {(v, int(s, 16)) for v, r in ours.get("versions", {}).items() for s in r["suites"]}
root = ET.parse(other_path).getroot()
if mode == "sslscan":
    theirs = {(c.get("sslversion"), int(c.get("id"), 16)) for c in root.iter("cipher")
              if c.get("status") in ("accepted", "preferred")}
else:
    theirs, orders = set(), {}
    for script in root.iter("script"):
        if script.get("id") != "ssl-enum-ciphers":
            continue
        for vt in script.findall("table"):
            ver = vt.get("key")
            for t in vt.iter("table"):
                for e in t.findall("elem"):
                    if e.get("key") == "name":
                        name = e.text.replace("TLS_AKE_WITH_", "TLS_")
                        if name not in iana:
                            print("nmap names an unknown suite:", e.text)
                            sys.exit(1)
                        theirs.add((ver, iana[name]))
            for e in vt.findall("elem"):
                if e.get("key") == "cipher preference":
                    orders[ver] = e.text
    if mode == "nmap-order":
        bad = 0
        for ver, r in ours.get("versions", {}).items():
            if len(r["suites"]) < 2 or ver not in orders or orders[ver] == "indeterminate":
                continue
            print("%s: ours %s, nmap %s" % (ver, r["order"], orders[ver]))
            bad += r["order"] != orders[ver]
        checked = [v for v, r in ours.get("versions", {}).items() if len(r["suites"]) >= 2 and v in orders]
        if not checked:
            print("no version to compare")
            sys.exit(1)
        sys.exit(1 if bad else 0)
print("ours:  ", " ".join(show(mine)))
print("theirs:", " ".join(show(theirs)))
if mine != theirs:
    print("only ours:", show(mine - theirs), "only theirs:", show(theirs - mine))
    sys.exit(1)
