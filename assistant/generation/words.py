"""Word lists the description parser reads by: the verbs that start a step, the words a task id
leaves out, and the words that alone do not make a step."""

from __future__ import annotations

_VERB_TEXT = """deploy back backup upload download copy move sync send post notify alert email mail message run execute
    call fetch get pull push load extract transform clean validate check wait sleep pause train score build
    compile test refresh rebuild update insert delete purge archive compress export import query ping trigger
    start stop restart generate create compute aggregate process publish write read parse scrape crawl index
    vacuum analyze analyse report summarize summarise merge join dedupe deduplicate migrate backfill snapshot
    scan monitor poll launch spin submit invoke hit tell kick rotate reindex optimize optimise materialize
    sense watch store save dump truncate drop warm flush resize convert encrypt decrypt zip unzip slack page
    then finally also mirror replicate enrich retrain evaluate predict upsert append rollup roll apply
    transfer stage ingest land collect gather prune expire cleanup let inform recompute reload classify
    detect promote demote geocode transcode transcribe decode encode"""
# The verbs a step starts with ("load", "email", "kick off"); "then" and "finally" count, as they
# start the next step the same way.
VERBS = frozenset(_VERB_TEXT.split())


def is_verb(word: str) -> bool:
    """A verb of a step, also in the third person ("pulls", "pushes") of "a dag that pulls ..."."""
    word = word.lower()
    return (
        word in VERBS
        or (word.endswith("s") and word[:-1] in VERBS)
        or (word.endswith("es") and word[:-2] in VERBS)
        or (word.endswith("ed") and (word[:-2] in VERBS or word[:-1] in VERBS))  # "... and stored in x"
        or (word.endswith("ied") and word[:-3] + "y" in VERBS)
    )


_STOP_TEXT = """a an the it its them this that these those our my your their his her we us i then finally first next
    also afterwards please and of some all any every each just"""
# Words a task id is not made of ("load the orders" -> load_orders).
STOP_WORDS = frozenset(_STOP_TEXT.split())

_FILLER_TEXT = """done it so on to do nothing otherwise else skip run runs execute should happens happen manually
    manual triggered scheduled schedule anything everything start check trigger by hand needed only no ll
    will usually around again please if not more local locally obviously fine is for now need"""
# Words that alone are no step: "run it manually", "otherwise do nothing", "no schedule needed".
FILLER_WORDS = frozenset(_FILLER_TEXT.split())
