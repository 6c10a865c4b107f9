"""The rule pack against real reports: precision and recall per rule on tests/corpus/.

The corpus holds excerpts of public news reports (each with its source address) labelled by
what an analyst would want alerted (docs/labelling.md), hard negatives included. The floors
below are what the pack reaches on the 79 records it was first tuned with (c001-c079), and,
per split, on the 403 ``tune`` records it is tuned on, the 168 ``test`` records held out from
tuning, and the 70 ``fresh`` records (c308-c377) gathered and labelled after an earlier tuning
(issue #14). c378-c521 (the second collection) and c522-c641 (the third) were added later,
split by the rule for added records (a story already in the corpus keeps its half; a new story
goes to ``test`` when the first 8 hex digits of the SHA-1 of its key are divisible by 3), and
so were c800-c858 (the fourth) and c961-c998 (the fifth). ``fresh2`` (c859-c960) was gathered
while the fourth pass ran and measured once after it; the fifth pass read its errors too, so every
split here is dev data now.
A rule change that drops under a floor fails here before it reaches analysts.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from monitor.detect.rules import load_rules
from monitor.detect.rules.quality import Confusion, Labelled, evaluate, read_corpus
from tests.conftest import ROOT, RULES

CORPUS = ROOT / "tests" / "corpus" / "articles.jsonl"
ITEMS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
LEGACY_LAST = 79  # c001-c079: the records the current rules were tuned with
FIXED_LAST = 307  # c001-c307: their halves are pinned by SPLIT_DIGEST
FRESH = range(308, 378)  # c308-c377: the `fresh` held-out set, apart from the tune/test halves
ADDED = range(378, 522)  # c378-c521: the second collection, split by the rule for added records
THIRD = range(522, 642)  # c522-c641: the third collection, split by the same rule
FOURTH = range(800, 859)  # c800-c858: the fourth collection, split by the same rule
FRESH2 = range(859, 961)  # c859-c960: the `fresh2` held-out set, gathered after the fourth pass
FIFTH = range(961, 999)  # c961-c998: the fifth collection (hard negatives for precision)
FRESH3 = range(1021, 1121)  # c1021-c1120: the `fresh3` held-out set, gathered during the fifth pass
FRESH4 = range(1121, 1201)  # c1121-c1200: the `fresh4` held-out set, gathered at stop 25
SIXTH = range(1201, 1223)  # c1201-c1222: gathered with fresh4, of stories already in tune or test
FRESH5 = range(1223, 1326)  # c1223-c1325: the `fresh5` held-out set, gathered at stop 26
FRESH6 = range(1326, 1446)  # c1326-c1445: the `fresh6` held-out set, the gate's measure
FRESH7 = range(1446, 1514)  # c1446-c1513: the `fresh7` held-out set, the gates trained again
FRESH8 = range(1514, 1562)  # c1514-c1561: the `fresh8` held-out set, gates that read citations
FRESH9 = range(1562, 1676)  # c1562-c1675: the `fresh9` held-out set, hard negatives per family
FRESH10 = range(1676, 1777)  # c1676-c1776: the `fresh10` held-out set, gates trained on fresh9
FRESH11 = range(1777, 1862)  # c1777-c1861: the `fresh11` held-out set, gates trained on fresh10
FRESH12 = range(1862, 1921)  # c1862-c1920: the `fresh12` held-out set, other evasion's model alone
FRESH13 = range(1921, 1978)  # c1921-c1977: the `fresh13` held-out set, gates trained on fresh12
FRESH14 = range(1978, 2062)  # c1978-c2061: the `fresh14` held-out set, gathered at stop 28
NATURAL = range(2062, 2126)  # c2062-c2125: `fresh14n`, a natural sample of DPRK news
SANCTIONS_NEWS = range(2126, 2172)  # c2126-c2171: `fresh14s`, a natural sample of sanctions news
FRESH15 = range(2172, 2258)  # c2172-c2257: the `fresh15` held-out set, gates trained on fresh14s
FRESH16 = range(2258, 2337)  # c2258-c2336: the `fresh16` held-out set, gates trained on fresh15
# each held-out set and its records: a record is in one exactly when its number is in the range
HELD_OUT_SETS = {
    "fresh": FRESH,
    "fresh2": FRESH2,
    "fresh3": FRESH3,
    "fresh4": FRESH4,
    "fresh5": FRESH5,
    "fresh6": FRESH6,
    "fresh7": FRESH7,
    "fresh8": FRESH8,
    "fresh9": FRESH9,
    "fresh10": FRESH10,
    "fresh11": FRESH11,
    "fresh12": FRESH12,
    "fresh13": FRESH13,
    "fresh14": FRESH14,
    "fresh14n": NATURAL,
    "fresh14s": SANCTIONS_NEWS,
    "fresh15": FRESH15,
    "fresh16": FRESH16,
}
# the record numbers in the file, in order (c642-c799 are not used yet)
NUMBERS = [
    *range(1, THIRD.stop),
    *FOURTH,
    *FRESH2,
    *FIFTH,
    *FRESH3,
    *FRESH4,
    *SIXTH,
    *FRESH5,
    *FRESH6,
    *FRESH7,
    *FRESH8,
    *FRESH9,
    *FRESH10,
    *FRESH11,
    *FRESH12,
    *FRESH13,
    *FRESH14,
    *NATURAL,
    *SANCTIONS_NEWS,
    *FRESH15,
    *FRESH16,
]
# sha256 of "id:labels" lines for c308-c377, labelled before any rule ran on them: a label
# changed to suit the rules breaks it
FRESH_LABELS_DIGEST = "211c94834b11d314e46c739a6ee84b797390c2dfd326d4ab1ebfeb47dea8dc9c"
# sha256 of "id:split" lines for c001-c307; a record that changes halves breaks it
SPLIT_DIGEST = "9416f8ce1284395e74ece664c1a6ee02069004d1dc09a6852764d5be53861903"
# sha256 of "id:split" lines for c378-c521; they never move either
ADDED_SPLIT_DIGEST = "76a36a556f9739b53ea90db783bd191f22dc6700841c6415de0d47f312e54ad7"
# sha256 of "id:split" and of "id:labels" lines for c522-c641, labelled before any rule ran on
# them: a record moved between halves, or a label changed to suit the rules, breaks one of them
THIRD_SPLIT_DIGEST = "e1774a67f55f8337c0f4c8f0debeff6e0138a11964c446c1e45b92c51876dcec"
THIRD_LABELS_DIGEST = "ff3e8f44b364c875d24c71137a37eb3a7b1d366afe1ce97a8135846ee6ec8c4e"
# the same two digests for c800-c858, labelled before any rule ran on them
FOURTH_SPLIT_DIGEST = "c70bdb117c574d9d77ef6c85aef72375c1f98d10ed8838de4b35032119ce9f36"
FOURTH_LABELS_DIGEST = "2b6d062bc333898eb5f3b74a69ff9bcce8362f63a97e853a52c27c35037a2bfe"
# sha256 of "id:labels" lines for c859-c960 (`fresh2`), labelled before any rule ran on them
FRESH2_LABELS_DIGEST = "3f5d2ac649f32741828d216ceb66cf40b59f9d12b20429ad7ae86fb92d628c68"
# the "id:split" and "id:labels" digests for c961-c998, labelled before any rule ran on them
FIFTH_SPLIT_DIGEST = "734f95e05a9caa06e987039eefeb3b2451c38ad51d93ca0b5e066a26d8d361c0"
FIFTH_LABELS_DIGEST = "6c6141c1f19212cbf0ba63d0b47f167554b9faa08d7038fdebe3dc4a95cd1f52"
# sha256 of "id:labels" lines for c1021-c1120 (`fresh3`), labelled before any rule ran on them
FRESH3_LABELS_DIGEST = "03607c1d14627438a523341755707f76146e72584976f54e87d718f08c5a91bb"
# and for c1121-c1200 (`fresh4`), labelled blind at stop 25
# the "id:split" and "id:labels" digests for c1201-c1222, labelled before any rule ran on them
SIXTH_SPLIT_DIGEST = "c0db85fea59b1de632b33ebe1b13f2b71e6acab6effb14927738726100ce4ec4"
SIXTH_LABELS_DIGEST = "9f6d03604733f5960f0f9a4da0e7a701035dae9c6b642fb64018a24bbbd9bcf2"
FRESH4_LABELS_DIGEST = "bf104d44891d4c6377e3c431fe63a01fb4b2012c4da8428edf4a854d42c4fe47"
# and for c1223-c1325 (`fresh5`), labelled blind at stop 26
FRESH5_LABELS_DIGEST = "9b30ddb094703ff9852206bb1d5a0b4ba1798547e82a8ce0d92e164ec74c53b9"
# and for c1326-c1445 (`fresh6`), labelled blind at stop 26
FRESH6_LABELS_DIGEST = "9a61f7958e4b88628ba4c8592bbc9ec0751d66fa91b1728639e22727d11f7758"
# and for c1446-c1513 (`fresh7`), labelled blind at stop 26
FRESH7_LABELS_DIGEST = "622df4af0e76f85598d21135d842bb5333acc087a969be443ee0dfd3d28ae095"
# and for c1514-c1561 (`fresh8`), labelled blind at stop 26
FRESH8_LABELS_DIGEST = "20dff3e7c9f7d17832e73ae0428da5869b139a61da67966bbffcbe6f0d9436ba"
# and for c1562-c1675 (`fresh9`), labelled blind at stop 27
FRESH9_LABELS_DIGEST = "bdd6a2a3a5398985aa14f6ee0974c61b1df3cf604ded7fe0a4f7fb532c8850d6"
# and for c1676-c1776 (`fresh10`), labelled blind at stop 27
FRESH10_LABELS_DIGEST = "f7e836cc6e89ff8f23f9acc07f51d968be183deb28ddd12f8650abbee4070d0d"
# and for c1777-c1861 (`fresh11`), labelled blind at stop 27
FRESH11_LABELS_DIGEST = "5182bee0daf0b243434d0911ac915823d4be5742b429d4ec8c19a3de3d0b788d"
# and for c1862-c1920 (`fresh12`), labelled blind at stop 27
FRESH12_LABELS_DIGEST = "070a52967caca78459ee0dbf6b264bddf7ea4ccabdffe5be194880d42188eb75"
# and for c1921-c1977 (`fresh13`), gathered and labelled blind at the end of stop 27
FRESH13_LABELS_DIGEST = "4bdf8aed38650e74a009a5c5d9963b3ee204fe96086e78237b23238bc3e5cc49"
# and for c1978-c2061 (`fresh14`), gathered and labelled blind at stop 28
FRESH14_LABELS_DIGEST = "c4fb9685e179b9df1d31dea6d3a0da6728f65d3fc4d4c1bd05e137a44cee5e75"
# and for c2062-c2125 (`fresh14n`), the natural sample, labelled blind at stop 28
NATURAL_LABELS_DIGEST = "723c36079bf1b810c04fc62d3ea95597e7e5378fca6657b4af0afda10d939667"
# and for c2126-c2171 (`fresh14s`), the natural sample of sanctions news, labelled blind at stop 28
SANCTIONS_NEWS_LABELS_DIGEST = "02ee45bab2e44ec69a8e6f1e5c13f5d4f0702f2fb750c782f6012e6d33080d01"
# and for c2172-c2257 (`fresh15`), gathered and labelled blind at stop 28
FRESH15_LABELS_DIGEST = "1bed4095532cce267b54541f3f1e52535922c888f203ed0ed0dcf1e31db4ac38"
# and for c2258-c2336 (`fresh16`), gathered and labelled blind at stop 28
FRESH16_LABELS_DIGEST = "7da3039eebbe2daedbe94aff00103c4c25255fece37de4c0d52b7d4f26d2a2be"
FIELDS = {"id", "url", "source", "title", "published", "text", "labels", "kind", "story", "split"}
NEGATIVE_KINDS = {  # named in issue #14; parade and sk-trade are older extras
    "imposition",
    "missile",
    "summit",
    "non-dprk-oil",
    "non-dprk-labor",
    "legal-tanker",
    "crypto-other",
}
FLOORS = {  # rule: (precision, recall)
    "dprk-overseas-labor": (1.00, 1.00),
    "dprk-oil-transfer": (1.00, 1.00),
    "dprk-sanctions-evasion": (1.00, 1.00),
}

# Issue #14 asks 0.95 precision and recall per family on held-out reports. The third tuning
# pass read only `tune` errors (403 records, c522-c641's tune records among them), then froze
# the rules and measured `test` (168 records) and `fresh` once each, without their errors.
# Reached on tune: oil P 0.98 (54/55) R 1.00, labour P 0.99 (79/80) R 0.99 (79/80), evasion
# P 0.9699 (129/133) R 1.00. Reached on test: oil 0.95 both ways (21/22), labour P 1.00 (34/34)
# R 0.85 (34/40), evasion P 0.74 (35/47) R 0.81 (35/43). Reached on fresh: oil 1.00 both ways
# (12/12), labour P 1.00 (10/10) R 0.83 (10/12), evasion P 0.87 (13/15) R 0.81 (13/16). The
# pack before the pass, on the same records, reached on test oil 0.95 both ways, labour P 0.97
# (34/35) R 0.85, evasion P 0.74 (34/46) R 0.79 (34/43), and on fresh the second pass's
# figures (evasion P 0.93, R 0.88). These are floors, not the goal: raise them when a change
# reaches more, and never tune on the test or fresh errors to get there.
# The fourth pass (c800-c858 added: 36 tune, 23 test) read the errors of all three splits, which
# are all dev data now (a new held-out set is being gathered apart). On the grown corpus it took
# tune from oil P 0.92 (58/63), labour 0.99/0.98, evasion P 0.93 (143/153) R 0.98 to oil P 0.94
# (58/62), labour P 0.99 (82/83) R 0.98 (82/84), evasion P 0.95 (144/152) R 0.99 (144/146); test
# from oil 0.91/0.95, labour 0.95/0.85, evasion 0.75/0.75 to oil 0.95 both ways (21/22), labour
# 0.96 both ways (44/46), evasion P 0.88 (50/57) R 0.91 (50/55); fresh evasion from 0.87/0.81 to
# P 0.88 (15/17) R 0.94 (15/16), oil and labour unchanged.
# Then the rules were frozen and `fresh2` (c859-c960, 102 records gathered meanwhile and labelled
# before any rule ran on them) was measured once, its errors unread: oil P 0.83 (15/18) R 1.00
# (15/15), labour P 0.90 (18/20) R 0.90 (18/20), evasion P 0.83 (30/36) R 0.97 (30/31).
# The fifth pass (c961-c998 added: 21 tune, 17 test, mostly hard negatives of the kinds that fired
# falsely) read the errors of all four splits. On the grown corpus it took tune from oil P 0.86
# (60/70), labour P 0.96 (82/85), evasion P 0.92 (148/161) to oil P 0.97 (60/62), labour P 1.00
# (82/82), evasion P 0.93 (148/159); test from oil P 0.91 (21/23), labour P 0.96 (46/48), evasion
# P 0.84 (52/62) to oil P 0.95 (21/22), labour P 0.98 (46/47), evasion P 0.87 (52/60); fresh2
# from oil P 0.83, labour P 0.90, evasion P 0.83 to oil P 0.94 (15/16), labour P 0.95 (18/19),
# evasion P 0.86 (30/35); fresh unchanged; no recall changed. Test labour recall is 0.94 (46/49)
# and tune evasion precision 0.93 because the collection added a doubtful labour record and hard
# negatives the pack still takes; those floors follow the measured figures. The lead then
# narrowed the pass's "declared tally" phrases: "reported to the UN" also opens real violation
# reports (a ship-to-ship transfer "reported to the UN sanctions committee", which
# tests/test_long_run.py's feeds say and the pass had stopped alerting on), so it now needs an
# amount (barrels, tonnes) in the same sentence, and a breach word lets the report through.
# That gives back one tune false alarm (c826): tune oil P 0.94 (60/64).
# Then `fresh3` (c1021-c1120, 100 records gathered and labelled blind during the fifth pass,
# weighted to hard negatives: 53 of them, 17 imposition) was measured once after the lead's fix,
# its errors unread: oil P 0.47 (7/15) R 1.00 (7/7), labour P 0.85 (17/20) R 1.00 (17/17),
# evasion P 0.64 (18/28) R 0.67 (18/27). The pack is fitted to the splits it was tuned on: its
# precision on unseen hard negatives, and its evasion recall, fall far short of issue #14.
# `fresh4` (c1121-c1200, 80 records of stories new to the corpus, gathered and labelled blind at
# stop 25, the rules unchanged since fresh3) was measured once, its errors unread: oil P 0.67
# (4/6) R 0.80 (4/5), labour P 0.70 (7/10) R 0.78 (7/9), evasion P 0.92 (24/26) R 0.96 (24/25).
# The 22 records gathered with it of stories already in tune (19) or test (3), c1201-c1222, took
# their stories' halves: tune oil P 0.94 (60/64) to 0.93 (64/69), evasion P 0.93 (148/159) to
# 0.92 (151/164), labour 1.00 (89/89); test unchanged but for evasion P 0.87 (53/61). Their
# errors are tuning data for the next pass; none has been read.
# The sixth pass (stop 26) read the errors of all six splits, which are all dev data now, and
# added general boundary phrases: headlines on a measure being implemented or enforced (to
# implement, to curb, to crack down, to share data, votes on, stiffens, suspends trade, sent
# home, forced closure, trade that plunges), a watch for breaches with none found, the cap's
# contents listed; oil in a coal-headlined report counts only in a sentence that says it moved
# in breach; other evasion: luxury cars given, art of the Mansudae studio, howitzers and rocket
# launchers, arms "provided by" the DPRK, exports "made illegally", facilitated transactions,
# malware, and a worker who steals stays the labour scheme's; labour: DPRK developers, and
# hackers posing as recruiters are no hire. On the six splits together (1,042 records) it took
# oil from P 0.88 (123/140) R 0.98 to P 0.94 (124/132) R 0.99, labour from 0.96/0.94 to
# 0.97 (188/193) / 0.95 (188/198), evasion from 0.88/0.94 to P 0.92 (301/327) R 0.97 (301/310).
# These floors follow. `fresh5` (c1223-c1325, 103 records of stories new to the corpus, gathered
# and labelled blind by three collectors at stop 26) was then measured once, its errors unread:
# oil P 0.92 (12/13) R 0.92 (12/13), labour P 0.92 (12/13) R 0.86 (12/14), evasion P 0.73 (30/41)
# R 0.91 (30/33). The pack before the sixth pass gives the same figures on it, to the record: the
# pass raised the splits it read and changed nothing on new reporting.
# Then other evasion got a gate (rules/models/dprk-sanctions-evasion.json, `monitor rules train`)
# trained on all seven splits above, fresh5 included: its evasion floors are in-sample from here
# on (tune P 0.99 R 0.99, test 1.00/0.91, fresh 1.00/1.00, fresh2 0.97/1.00, fresh3 0.96/0.93,
# fresh4 1.00/1.00, fresh5 0.97/0.91) and say only that the gate keeps what it was fitted to.
# Its held-out measure is `fresh6` (c1326-c1445, 120 records of stories new to the corpus, gathered
# and labelled blind by four collectors at stop 26), measured once with the gated pack, its
# errors unread: oil P 0.80 (8/10) R 0.89 (8/9), labour P 0.69 (9/13) R 0.82 (9/11), evasion
# P 0.87 (27/31) R 0.71 (27/38). The same pack without the gate: evasion P 0.82 (27/33), the same
# recall (the gate dropped two false alarms and no true one); the pack before the sixth pass:
# evasion P 0.80 (28/35) R 0.74 (28/38); oil and labour the same in all three.
# Then the gates were trained again on all eight splits (1,265 records) and labour got one too
# (out of fold, labour P 0.95 -> 0.97 R 0.94 -> 0.92, evasion P 0.89 -> 0.94 R 0.94 -> 0.91);
# oil has none (README, "Gates": seed 001 would lose its oil alert). Every labour and evasion
# floor is in-sample from here on; their held-out measure is `fresh7`.
# `fresh7` (c1446-c1513, 68 records of stories new to the corpus, gathered and labelled blind by
# two collectors at stop 26) was measured once with that pack, its errors unread: oil P 0.83
# (5/6) R 1.00 (5/5), labour P 0.83 (5/6) R 0.56 (5/9), evasion P 0.83 (19/23) R 0.90 (19/21).
# The same pack without its gates: labour P 0.71 (5/7), evasion P 0.79 (19/24), the same recall
# (each gate dropped one false alarm and no true alert).
# Then the gates were made to score the cited sentences too (the higher of the two counts: a
# whole-report gate could not serve oil, whose seed 001 alert it vetoed, nor a report padded with
# page junk), trained again on all nine splits (1,333 records), and oil got its gate. Every floor
# above is in-sample from here on; their held-out measure is `fresh8`.
# `fresh8` (c1514-c1561, 48 records of stories new to the corpus, gathered and labelled blind at
# stop 26) was measured once with that pack, its errors unread: oil 1.00 both ways (4/4), labour
# 1.00 both ways (3/3), evasion P 0.89 (16/18) R 0.89 (16/18); without the gates evasion P 0.84
# (16/19), the same recall. Too few labour and oil reports there to say much of those two.
# `fresh9` (c1562-c1675, 114 records gathered and labelled blind at stop 27 by three collectors,
# one a family, each told to bring that family's breaches and its hardest look-alikes) was
# measured once with the same pack, its errors unread: labour P 0.72 (13/18) R 0.76 (13/17), oil
# P 0.72 (13/18) R 0.87 (13/15), evasion P 0.82 (23/28) R 0.92 (23/25). Without the gates:
# labour 0.70 (14/20) / 0.82 (14/17), oil the same, evasion P 0.72 (23/32), the same recall.
# Then the three gates were trained again on all eleven splits (1,495 records; thresholds
# labour 0.20, oil 0.25, evasion 0.37, each keeping 97% of true alerts out of fold). Every floor
# here is in-sample from then on; their held-out measure is `fresh10`.
# `fresh10` (c1676-c1776, 101 records gathered and labelled blind at stop 27 as `fresh9` was)
# was measured once with that pack, its errors unread: labour P 0.57 (8/14) R 0.47 (8/17), oil
# P 0.54 (7/13) R 1.00 (7/7), evasion P 0.84 (16/19) R 0.76 (16/21). Without the gates: labour
# 0.53 (8/15), oil 0.39 (7/18), evasion 0.77 (17/22) / 0.81 (17/21).
# Then the gates were trained again on all twelve splits (1,596 records; thresholds labour 0.20,
# oil 0.26, evasion 0.35). Every floor above `fresh11` is in-sample from then on.
# `fresh11` (c1777-c1861, 85 records gathered and labelled blind at stop 27 as `fresh9` was; the
# oil collector found three new oil breaches) was measured once with that pack, its errors
# unread: labour P 0.69 (11/16) R 0.79 (11/14), oil P 0.40 (2/5) R 0.67 (2/3), evasion P 0.93
# (14/15) R 0.88 (14/16). Without the gates: oil P 0.22 (2/9), evasion 0.83 (15/18) / 0.94
# (15/16), labour the same.
# Then other evasion's gate was let fire alone (`alone: threshold 0.70, needs [dprk]`; 0.70 is
# what training picks out of fold on the twelve splits up to `fresh10`), a choice made on
# `fresh9` to `fresh11` (tests/corpus/README.md, "A model that fires alone"). Every evasion floor
# is in-sample or spent from then on; the held-out measure of that change is `fresh12`.
# `fresh12` (c1862-c1920, 59 records of other evasion and its look-alikes, gathered and labelled
# blind at stop 27 by two collectors after the choice) was measured once: evasion P 0.76 (25/33)
# R 0.86 (25/29); without the model firing alone P 0.79 (23/29) R 0.79 (23/29). Oil's one report
# (diesel smuggled in at Hyesan) was vetoed by its gate; no labour report, and no false alarm.
# Then `imposing`'s "seeks to" was narrowed to a measure sought ("seeks to ban", "seeks to
# cap", ...), after `c1690` (read) showed it dropping "seeks to earn foreign currency by
# illegally sending workers abroad" (labour +1 true alert over all splits, nothing else moved),
# and the gates were trained again on all fourteen splits (1,740 records; thresholds labour
# 0.25, oil 0.21, evasion 0.36, evasion alone 0.70). Every floor here is in-sample from then on;
# the held-out measure of labour and oil is `fresh13`.
# `fresh13` (c1921-c1977, 57 records of labour and oil with their look-alikes, gathered and
# labelled blind at the end of stop 27, after that stop's changes) was measured once with that
# pack, its errors unread: labour P 0.77 (10/13) R 0.67 (10/15), oil P 0.71 (5/7) R 0.83 (5/6),
# and five false alarms of other evasion (it has no evasion breach). Without the gates: labour
# 0.79 (11/14) / 0.73 (11/15), oil and evasion the same: the labour gate cost one true alert.
# Then the labour rule's first clause let "workers" and the word that sends or hires them stand
# ten words apart, not eight (chosen on every split, `fresh13` read: two more true alerts, `c1564`
# and `c1926`, and no false alarm). Its held-out measure is `fresh14`.
# `fresh14` (c1978-c2061, 84 records gathered and labelled blind at stop 28 by three collectors,
# one a family, as `fresh9` was) was measured once with that pack, its errors unread: labour P
# 0.70 (16/23) R 0.84 (16/19), oil P 0.50 (5/10) R 1.00 (5/5), evasion P 0.73 (16/22) R 0.89
# (16/18). Without the gates: oil P 0.45 (5/11), evasion 0.68 (15/22) / 0.83 (15/18), labour the
# same; the ten-word reach changed nothing there.
# `fresh14n` (c2062-c2125) is not family-targeted: 64 North Korea reports taken as generic
# queries returned them (a month, an outlet), labelled blind, measured once with the same pack:
# two breaches (other evasion), both alerted, and no false alarm on the 62 others (without the
# gates, one labour false alarm). It measures what a feed of current news asks of the pack.
# `fresh14s` (c2126-c2171) is a natural sample of sanctions news: 46 reports that generic
# queries ("North Korea sanctions" with a month or an outlet) returned, in order, labelled blind
# and measured once with the same pack. Nearly all are designations and measures, the boundary
# of docs/labelling.md's Boundary 2 (conduct named or not): labour P 1.00 (1/1) R 0.25 (1/4), oil
# one false alarm and its one breach missed, evasion P 0.25 (2/8) R 0.18 (2/11).
# Then the three gates were trained again on all eighteen splits up to `fresh14s` (1,991
# records; thresholds labour 0.28, oil 0.20, evasion 0.34, evasion alone 0.70). Every floor here
# is in-sample from then on; their held-out measure is `fresh15`.
# `fresh15` (c2172-c2257, 86 records gathered and labelled blind at stop 28: labour, other
# evasion, and designations on both sides of the guide's Boundary 2) was measured once with
# that pack, its errors unread: labour P 0.79 (15/19) R 1.00 (15/15), evasion P 0.91 (20/22) R
# 0.69 (20/29), oil one false alarm (no oil breach). Without the gates: labour 0.75 (15/20),
# evasion 0.77 (17/22) / 0.59 (17/29). On its designations alone, evasion 8/9 / 8/14.
# Then the gates were trained again on all nineteen splits up to `fresh15` (2,077 records;
# thresholds labour 0.22, oil 0.20, evasion 0.39, evasion alone 0.68, each what training picks
# out of fold). Every floor here is in-sample from then on; their held-out measure is `fresh16`.
# `fresh16` (c2258-c2336, 79 records gathered and labelled blind at stop 28, one collector a
# family) was measured once with that pack, its errors unread: labour P 0.79 (11/14) R 0.73
# (11/15), evasion P 0.76 (16/21) R 1.00 (16/16), oil six false alarms and both its (doubtful)
# breaches missed. Without the gates: labour 0.69 (11/16), evasion 0.78 (14/18) / 0.88 (14/16),
# oil 0.10 (1/10) / 0.50 (1/2).
SPLIT_FLOORS = {  # split: {rule: (precision, recall)}
    "fresh16": {
        "dprk-overseas-labor": (0.78, 0.73),
        "dprk-oil-transfer": (0.00, 0.00),  # FALSE_ALARM_CAPS
        "dprk-sanctions-evasion": (0.76, 1.00),
    },
    "fresh15": {
        "dprk-overseas-labor": (0.83, 1.00),
        "dprk-oil-transfer": (0.00, 1.00),  # FALSE_ALARM_CAPS
        "dprk-sanctions-evasion": (0.93, 1.00),
    },
    "fresh14s": {
        "dprk-overseas-labor": (1.00, 0.25),
        "dprk-oil-transfer": (0.00, 0.00),  # FALSE_ALARM_CAPS
        "dprk-sanctions-evasion": (0.84, 1.00),
    },
    "fresh14n": {
        "dprk-overseas-labor": (1.00, 1.00),
        "dprk-oil-transfer": (1.00, 1.00),
        "dprk-sanctions-evasion": (1.00, 1.00),
    },
    "fresh14": {
        "dprk-overseas-labor": (0.69, 0.84),
        "dprk-oil-transfer": (0.50, 1.00),
        "dprk-sanctions-evasion": (0.90, 1.00),
    },
    "fresh13": {
        "dprk-overseas-labor": (0.80, 0.80),
        "dprk-oil-transfer": (0.71, 0.83),
        "dprk-sanctions-evasion": (0.00, 1.00),  # no evasion breach: FALSE_ALARM_CAPS
    },
    "fresh12": {
        "dprk-overseas-labor": (1.00, 1.00),
        "dprk-oil-transfer": (1.00, 1.00),
        "dprk-sanctions-evasion": (1.00, 1.00),
    },
    "fresh11": {
        "dprk-overseas-labor": (0.68, 0.78),
        "dprk-oil-transfer": (0.33, 0.66),
        "dprk-sanctions-evasion": (1.00, 1.00),
    },
    "fresh10": {
        "dprk-overseas-labor": (0.60, 0.52),
        "dprk-oil-transfer": (0.58, 1.00),
        "dprk-sanctions-evasion": (0.95, 1.00),
    },
    "fresh9": {
        "dprk-overseas-labor": (0.78, 0.88),
        "dprk-oil-transfer": (0.76, 0.86),
        "dprk-sanctions-evasion": (0.89, 1.00),
    },
    "fresh8": {
        "dprk-overseas-labor": (1.00, 1.00),
        "dprk-oil-transfer": (1.00, 1.00),
        "dprk-sanctions-evasion": (0.94, 1.00),
    },
    "fresh7": {
        "dprk-overseas-labor": (0.83, 0.55),
        "dprk-oil-transfer": (0.83, 1.00),
        "dprk-sanctions-evasion": (0.91, 1.00),
    },
    "fresh6": {
        "dprk-overseas-labor": (0.81, 0.81),
        "dprk-oil-transfer": (1.00, 0.88),
        "dprk-sanctions-evasion": (0.95, 1.00),
    },
    "fresh5": {
        "dprk-overseas-labor": (0.92, 0.85),
        "dprk-oil-transfer": (1.00, 0.92),
        "dprk-sanctions-evasion": (0.91, 1.00),
    },
    "fresh4": {
        "dprk-overseas-labor": (0.88, 0.88),
        "dprk-oil-transfer": (1.00, 1.00),
        "dprk-sanctions-evasion": (1.00, 1.00),
    },
    "fresh3": {
        "dprk-overseas-labor": (0.94, 1.00),
        "dprk-oil-transfer": (0.77, 1.00),
        "dprk-sanctions-evasion": (0.93, 1.00),
    },
    "fresh2": {
        "dprk-overseas-labor": (0.94, 0.90),
        "dprk-oil-transfer": (0.93, 1.00),
        "dprk-sanctions-evasion": (0.96, 1.00),
    },
    "test": {
        "dprk-overseas-labor": (0.97, 0.93),
        "dprk-oil-transfer": (0.95, 0.95),
        "dprk-sanctions-evasion": (0.96, 1.00),
    },
    "fresh": {
        "dprk-overseas-labor": (1.00, 0.83),
        "dprk-oil-transfer": (1.00, 1.00),
        "dprk-sanctions-evasion": (1.00, 1.00),
    },
    "tune": {
        "dprk-overseas-labor": (1.00, 0.97),
        "dprk-oil-transfer": (0.95, 1.00),
        "dprk-sanctions-evasion": (0.96, 1.00),
    },
}


def number(item: Labelled | dict) -> int:
    """A record's number (c042: 42), from a read report or a raw line."""
    return int((item.id if isinstance(item, Labelled) else item["id"])[1:])


def score_corpus(keep=lambda item: number(item) <= LEGACY_LAST) -> dict[str, Confusion]:
    """Each rule's score on the records ``keep`` selects (by default c001-c079), measured as
    ``monitor rules evaluate`` measures it."""
    chosen = [item for item in read_corpus(CORPUS) if keep(item)]
    return evaluate(load_rules(RULES).rules, chosen).scores


SCORES = score_corpus()
SPLIT_SCORES = {
    half: score_corpus(lambda item, half=half: item.split == half) for half in SPLIT_FLOORS
}


def test_corpus_is_labelled_and_sourced():
    assert len(ITEMS) >= 300
    assert [item["id"] for item in ITEMS] == [f"c{n:03d}" for n in NUMBERS]
    for item in ITEMS:
        assert set(item) >= FIELDS, item["id"]
        assert item["url"].startswith(("http://", "https://")), item["id"]
        assert item["text"].strip() and item["title"].strip(), item["id"]
        assert set(item["labels"]) <= set(FLOORS), item["id"]
        assert (item["kind"] == "positive") == bool(item["labels"]), item["id"]
    assert sum(1 for item in ITEMS if item["labels"]) >= 150
    for rule in FLOORS:
        assert sum(rule in item["labels"] for item in ITEMS) >= 40, rule
    kinds = Counter(item["kind"] for item in ITEMS if not item["labels"])
    assert sum(kinds[kind] for kind in NEGATIVE_KINDS) >= 120, kinds
    assert all(kinds[kind] >= 10 for kind in NEGATIVE_KINDS), kinds


def test_split_is_fixed_and_keeps_stories_whole():
    halves: dict[str, set[str]] = {}
    for item in ITEMS:
        assert item["split"] in ("tune", "test", *HELD_OUT_SETS), item["id"]
        halves.setdefault(item["story"], set()).add(item["split"])
        if number(item) <= LEGACY_LAST:
            assert item["split"] == "tune", item["id"]
        for name, numbers in HELD_OUT_SETS.items():
            assert (item["split"] == name) == (number(item) in numbers), item["id"]
    assert not [story for story, seen in halves.items() if len(seen) > 1]
    halved = [item for item in ITEMS if item["split"] in ("tune", "test")]
    test_share = sum(item["split"] == "test" for item in halved) / len(halved)
    assert 0.28 <= test_share <= 0.40, test_share


# What is pinned: (the records, which field, its sha256). The splits of the records tuned on
# never move, and the labels of every set labelled before any rule ran on it never change.
PINNED = [
    (range(1, FIXED_LAST + 1), "split", SPLIT_DIGEST),
    (FRESH, "labels", FRESH_LABELS_DIGEST),
    (ADDED, "split", ADDED_SPLIT_DIGEST),
    (THIRD, "split", THIRD_SPLIT_DIGEST),
    (THIRD, "labels", THIRD_LABELS_DIGEST),
    (FOURTH, "split", FOURTH_SPLIT_DIGEST),
    (FOURTH, "labels", FOURTH_LABELS_DIGEST),
    (FRESH2, "labels", FRESH2_LABELS_DIGEST),
    (FIFTH, "split", FIFTH_SPLIT_DIGEST),
    (FIFTH, "labels", FIFTH_LABELS_DIGEST),
    (FRESH3, "labels", FRESH3_LABELS_DIGEST),
    (FRESH4, "labels", FRESH4_LABELS_DIGEST),
    (SIXTH, "split", SIXTH_SPLIT_DIGEST),
    (SIXTH, "labels", SIXTH_LABELS_DIGEST),
    (FRESH5, "labels", FRESH5_LABELS_DIGEST),
    (FRESH6, "labels", FRESH6_LABELS_DIGEST),
    (FRESH7, "labels", FRESH7_LABELS_DIGEST),
    (FRESH8, "labels", FRESH8_LABELS_DIGEST),
    (FRESH9, "labels", FRESH9_LABELS_DIGEST),
    (FRESH10, "labels", FRESH10_LABELS_DIGEST),
    (FRESH11, "labels", FRESH11_LABELS_DIGEST),
    (FRESH12, "labels", FRESH12_LABELS_DIGEST),
    (FRESH13, "labels", FRESH13_LABELS_DIGEST),
    (FRESH14, "labels", FRESH14_LABELS_DIGEST),
    (NATURAL, "labels", NATURAL_LABELS_DIGEST),
    (SANCTIONS_NEWS, "labels", SANCTIONS_NEWS_LABELS_DIGEST),
    (FRESH15, "labels", FRESH15_LABELS_DIGEST),
    (FRESH16, "labels", FRESH16_LABELS_DIGEST),
]


@pytest.mark.parametrize(
    ("numbers", "field", "digest"),
    PINNED,
    ids=[f"c{r.start:03d}-c{r.stop - 1:03d}-{field}" for r, field, _ in PINNED],
)
def test_pinned_splits_and_labels_do_not_change(numbers: range, field: str, digest: str):
    chosen = [item for item in ITEMS if number(item) in numbers]
    assert len(chosen) == len(numbers)
    lines = "\n".join(
        f"{item['id']}:{','.join(sorted(item[field])) if field == 'labels' else item[field]}"
        for item in chosen
    )
    assert hashlib.sha256(lines.encode()).hexdigest() == digest


@pytest.mark.parametrize(
    "added",
    [ADDED, THIRD, FOURTH, FIFTH, SIXTH],
    ids=["second", "third", "fourth", "fifth", "sixth"],
)
def test_added_records_follow_the_split_rule(added: range):
    """Each later collection (c378-c521, c522-c641, c800-c858, c961-c998) takes its story's half
    when the story was already here, else the SHA-1 rule tests/corpus/README.md documents; never
    `fresh` or `fresh2`, so no added record shares a story with a held-out set."""
    earlier = {item["story"]: item["split"] for item in ITEMS if number(item) < added.start}
    for item in ITEMS:
        if number(item) not in added:
            continue
        if item["story"] in earlier:
            expected = earlier[item["story"]]
        else:
            digits = int(hashlib.sha1(item["story"].encode()).hexdigest()[:8], 16)
            expected = "test" if digits % 3 == 0 else "tune"
        assert expected not in ("fresh", "fresh2"), item["id"]
        assert item["split"] == expected, item["id"]


@pytest.mark.parametrize("rule", sorted(FLOORS))
def test_precision_and_recall_floors(rule):
    score = SCORES[rule]
    precision_floor, recall_floor = FLOORS[rule]
    summary = f"{rule}: P={score.precision:.2f} R={score.recall:.2f} ({score})"
    print(summary)
    assert score.precision >= precision_floor, summary
    assert score.recall >= recall_floor, summary


@pytest.mark.parametrize(
    ("half", "rule"), [(half, rule) for half in SPLIT_FLOORS for rule in sorted(FLOORS)]
)
def test_precision_and_recall_floors_per_half(half, rule):
    score = SPLIT_SCORES[half][rule]
    precision_floor, recall_floor = SPLIT_FLOORS[half][rule]
    summary = f"{half} {rule}: P={score.precision:.3f} R={score.recall:.3f} ({score})"
    print(summary)
    assert score.precision >= precision_floor, summary
    assert score.recall >= recall_floor, summary


# Where a rule has no true alert on a set, its precision floor is 0 and says nothing: the false
# alarms it gave when measured once are the cap. On `fresh13` (no other-evasion breach): reports
# of IT workers and a footballer the labour family covers, two oil reports, a sanctions law's
# FAQ (five when measured, three since the gates were trained on it). On `fresh14s`: EU listings
# of vessels that carried unnamed cargo. On `fresh15`: fuel the 1718 Committee exempted. On
# `fresh16`: fuel smuggled before the caps, a pipeline, Taiwan's compliance, coal smuggling.
FALSE_ALARM_CAPS = {
    ("fresh13", "dprk-sanctions-evasion"): 3,
    ("fresh14s", "dprk-oil-transfer"): 1,
    ("fresh15", "dprk-oil-transfer"): 1,
    ("fresh16", "dprk-oil-transfer"): 6,
}


@pytest.mark.parametrize(("half", "rule"), sorted(FALSE_ALARM_CAPS))
def test_false_alarms_where_a_rule_had_no_true_alert(half, rule):
    score = SPLIT_SCORES[half][rule]
    assert score.tp == 0 and SPLIT_FLOORS[half][rule][0] == 0.0
    assert score.fp <= FALSE_ALARM_CAPS[half, rule], score


def test_the_readme_counts_are_the_corpus_counts():
    """tests/corpus/README.md's "Counts" table is written by hand after each merge; every cell
    must still be what the records say, or the reference lies about the corpus it describes."""
    readme = (CORPUS.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Counts (") :]
    heading, _, *body = section.splitlines()
    assert heading == f"## Counts ({len(ITEMS):,} records)"
    project_readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"corpus: {len(ITEMS):,} real reports" in project_readme
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in body]
    rows = rows[: next(n for n, row in enumerate(rows) if len(row) == 1)]  # up to the blank line
    splits = rows[0][1:-1]
    assert set(splits) == {item["split"] for item in ITEMS}

    def wanted(name: str, item: dict) -> bool:
        kind = name.strip("`")
        by_name = {
            "any label (positive)": bool(item["labels"]),
            "more than one label": len(item["labels"]) > 1,
            "no label (hard negative)": not item["labels"],
            "all records": True,
        }
        if name in by_name:
            return by_name[name]
        return kind in item["labels"] if kind in FLOORS else item["kind"] == kind

    for name, *cells in rows[2:]:
        counts = [sum(wanted(name, i) for i in ITEMS if i["split"] == s) for s in splits]
        assert cells == [str(n) for n in [*counts, sum(counts)]], name
    assert {r[0].strip("`") for r in rows[2:]} >= {i["kind"] for i in ITEMS if not i["labels"]}
