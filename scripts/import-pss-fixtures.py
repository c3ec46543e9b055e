#!/usr/bin/env python3
"""Imports the upstream Pod Security Standards fixtures in a compact form.

Source: kubernetes/pod-security-admission, test/testdata (Apache-2.0), as copied into
../shared/corpus/pss/ (commit and license in that corpus' SOURCES.tsv and LICENSE).

Writes crates/palisade-rules/tests/data/pss/:
  objects.yaml  every distinct fixture content once, each document introduced by
                `--- # <hash>`;
  index.tsv     level, expect, fixture name, content hash and the Kubernetes versions
                (as ranges such as 1.0-1.18,1.25) at which upstream tests it.
"""
import collections
import json
import pathlib
import shutil
import sys

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/pss")
dst = pathlib.Path("crates/palisade-rules/tests/data/pss")
dst.mkdir(parents=True, exist_ok=True)

index = json.loads((src / "expected_index.json").read_text())
contents = {}
groups = collections.defaultdict(list)
for entry in index:
    text = (src / entry["file"]).read_text()
    if contents.setdefault(entry["hash"], text) != text:
        sys.exit(f"hash collision for {entry['hash']}")
    minor = int(entry["version"].split(".")[1])
    groups[(entry["level"], entry["expect"], entry["name"], entry["hash"])].append(minor)


def ranges(minors):
    minors = sorted(minors)
    out, start, prev = [], minors[0], minors[0]
    for m in minors[1:] + [None]:
        if m is not None and m == prev + 1:
            prev = m
            continue
        out.append(f"1.{start}" if start == prev else f"1.{start}-1.{prev}")
        if m is not None:
            start = prev = m
    return ",".join(out)


with open(dst / "objects.yaml", "w") as f:
    for h in sorted(contents):
        f.write(f"--- # {h}\n")
        f.write(contents[h] if contents[h].endswith("\n") else contents[h] + "\n")
with open(dst / "index.tsv", "w") as f:
    f.write("# level\texpect\tname\thash\tversions\n")
    for key in sorted(groups):
        f.write("\t".join(key) + "\t" + ranges(groups[key]) + "\n")
shutil.copy(src / "LICENSE", dst / "LICENSE")
(dst / "SOURCE.md").write_text(
    "Pod Security Standards fixtures from kubernetes/pod-security-admission\n"
    "(test/testdata, commit 8f84a87c7f617f64a4ddc1aea24aeeb7a2e07cb8, Apache-2.0, see LICENSE),\n"
    f"{len(index)} files stored as {len(contents)} distinct documents. Regenerate with\n"
    "`python3 scripts/import-pss-fixtures.py ../shared/corpus/pss`.\n"
)
print(f"{len(index)} fixtures, {len(contents)} distinct contents, {len(groups)} index rows")
