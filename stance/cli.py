"""The ``stance`` command: parses arguments, calls the public API, prints. No logic lives here.

Every user error (missing file, unreadable data, damaged model) ends with one line on stderr,
``stance: error: ...``, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .corpus import CorpusError, read_labelled
from .documents import DocumentError, read_text
from .features import Featurizer
from .model import load
from .modelfile import ModelFileError
from .train import cross_validate, evaluate, format_report, train

_USER_ERRORS = (OSError, CorpusError, DocumentError, ModelFileError, ValueError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("stance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `stance tag FILE | head`
        sys.stderr.close()
        return 0
    except _USER_ERRORS as error:
        print(f"stance: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance",
        description="Tag English sentences on international affairs with a topic and a stance.",
    )
    parser.add_argument("--version", action="version", version=f"stance {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    tag = commands.add_parser(
        "tag",
        help="split texts into sentences and print one JSON object per sentence",
        description="Print one JSON record per sentence: source, start, end, text, topic, "
        "stance and the probability of every label. Offsets are character offsets into the "
        "decoded text of the file.",
    )
    tag.add_argument(
        "files",
        nargs="*",
        default=["-"],
        metavar="FILE",
        help="text files to tag; '-' or nothing reads standard input",
    )
    _model_option(tag)
    tag.set_defaults(run=_run_tag)

    info = commands.add_parser(
        "info",
        help="show the model card summary",
        description="Show the model's labels, training data and scores.",
    )
    _model_option(info)
    info.add_argument("--card", action="store_true", help="print the whole model card")
    info.set_defaults(run=_run_info)

    fit = commands.add_parser(
        "train",
        help="train a model on your own labelled data",
        description="Train a model from a CSV/TSV/JSONL file with a text column and a topic "
        "and/or a stance column; label names come from the data.",
    )
    fit.add_argument("data", metavar="DATA", help="labelled data (.csv, .tsv or .jsonl)")
    fit.add_argument(
        "-o", "--output", required=True, metavar="MODEL_DIR", help="directory to write the model to"
    )
    _column_options(fit)
    fit.add_argument("--dev", metavar="DATA", help="held-out data to calibrate probabilities")
    fit.add_argument(
        "--given-topic",
        action="store_true",
        help="learn stance given a known topic (per-topic stance weights)",
    )
    fit.add_argument(
        "--cv",
        type=int,
        default=0,
        metavar="K",
        help="also run K-fold cross-validation and record it in the model card",
    )
    fit.add_argument("--C-topic", type=float, default=10.0, help="topic head regularisation")
    fit.add_argument("--C-stance", type=float, default=10.0, help="stance head regularisation")
    fit.add_argument(
        "--nb-weights",
        action="store_true",
        help="one binary model per class on naive-Bayes-scaled features (faster on large data)",
    )
    fit.add_argument("--class-weight", choices=["balanced"], default=None)
    fit.add_argument("--min-df", type=int, default=2, help="minimum feature document frequency")
    fit.add_argument(
        "--lexicon",
        metavar="JSON",
        help='word lists per class, {"name": ["term", ...]}: each term adds a pooled feature',
    )
    fit.add_argument(
        "--polarity",
        metavar="JSON",
        help="evaluative word lists in the same form; negated terms count apart",
    )
    fit.add_argument(
        "--solver",
        choices=["lbfgs", "newton-cg"],
        default="lbfgs",
        help="logistic-regression solver; newton-cg with --tol 1e-8 trains to the optimum, which"
        " predicted the same on other processors",
    )
    fit.add_argument("--tol", type=float, default=1e-4, help="the solver's stopping tolerance")
    fit.add_argument("--random-state", type=int, default=0)
    fit.add_argument("--name", default="custom", help="model name recorded in its card")
    fit.set_defaults(run=_run_train)

    check = commands.add_parser(
        "evaluate",
        help="score a model on labelled data (or cross-validate training on it)",
        description="Print accuracy, macro-F1, per-class precision/recall/F1 and confusion "
        "matrices of MODEL on DATA; with --cv K and no --model, K-fold cross-validate training "
        "on DATA instead.",
    )
    check.add_argument("data", metavar="DATA", help="labelled data (.csv, .tsv or .jsonl)")
    check.add_argument("--model", metavar="MODEL_DIR", help="model to score (default: shipped)")
    _column_options(check)
    check.add_argument(
        "--given-topic",
        action="store_true",
        help="give the model the gold topics and score only the stance",
    )
    check.add_argument(
        "--cv",
        type=int,
        default=0,
        metavar="K",
        help="cross-validate training with K folds instead of scoring a model",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=_run_evaluate)

    score = commands.add_parser(
        "score",
        help="tag every document of a folder into a JSONL or CSV file (parallel, resumable)",
        description="Tag every sentence of the .txt, .md, .html/.htm and .jsonl files under DIR "
        "(recursively) and write one record per sentence to OUT. Rerun the same command after "
        "an interruption to resume: every record ends up in OUT exactly once. Documents that "
        "cannot be read are listed in the errors file; the exit status is 0 when everything was "
        "scored, 1 when some documents were skipped.",
    )
    score.add_argument("folder", metavar="DIR", help="folder of documents")
    score.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output file (.jsonl or .csv)"
    )
    score.add_argument(
        "--format", choices=["jsonl", "csv"], help="output format (default: from OUT's extension)"
    )
    score.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="worker processes (-1: all cores)"
    )
    score.add_argument("--glob", metavar="PAT", help="only files matching PAT, e.g. '*.txt'")
    score.add_argument(
        "--probs", action="store_true", help="add the full topic and stance distributions"
    )
    score.add_argument(
        "--overwrite", action="store_true", help="start afresh instead of resuming OUT"
    )
    score.add_argument("--quiet", action="store_true", help="no progress bar or summary line")
    _model_option(score)
    score.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster (dask.distributed scheduler address, e.g. tcp://host:8786)",
    )
    score.add_argument(
        "--summary",
        metavar="FILE",
        help="also write per-document topic x stance counts (CSV if FILE ends in .csv)",
    )
    score.add_argument(
        "--errors",
        metavar="FILE",
        help="where to list skipped documents (default: OUT.errors.jsonl)",
    )
    score.add_argument("--text-field", default="text", help="text field of JSONL lines")
    score.add_argument("--id-field", default="id", help="id field of JSONL lines")
    score.set_defaults(run=_run_score)

    summary = commands.add_parser(
        "summarize",
        help="per-document topic x stance counts of a `stance score` output",
        description="Read the records written by `stance score` and print, per document, the "
        "number of sentences and the counts of every topic x stance pair.",
    )
    summary.add_argument("scored", metavar="OUT", help="output of `stance score` (.jsonl/.csv)")
    summary.add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of standard output"
    )
    summary.add_argument(
        "--format", choices=["jsonl", "csv"], help="summary format (default: jsonl, or FILE's)"
    )
    summary.set_defaults(run=_run_summarize)
    return parser


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", metavar="MODEL_DIR", help="a saved model directory (default: the shipped model)"
    )


def _column_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", default="text", help="column of texts (default: text)")
    parser.add_argument("--topic-column", default="topic", help="topic label column")
    parser.add_argument("--stance-column", default="stance", help="stance label column")


def _read_data(args: argparse.Namespace, path: str):
    return read_labelled(path, args.text_column, args.topic_column, args.stance_column)


def _run_tag(args: argparse.Namespace) -> int:
    model = load(args.model)
    out = sys.stdout
    for name in args.files:
        text = sys.stdin.read() if name == "-" else read_text(name).text
        for sentence in model.tag(text):
            record = {"source": name, **sentence.to_dict()}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _run_info(args: argparse.Namespace) -> int:
    model = load(args.model)
    if args.card:
        print(model.card or "(this model has no card)")
        return 0
    info = model.info
    training = info.get("training", {})
    print(f"model:    {model.identity}  (stance {info.get('library_version', '?')})")
    print(f"topics:   {', '.join(model.topics) or '-'}")
    print(f"stances:  {', '.join(model.stances) or '-'}")
    print(
        f"training: {training.get('sentences', '?')} sentences, "
        f"{training.get('features', '?')} features"
    )
    for name, scores in info.get("evaluation", {}).items():
        parts = [
            f"{head} macro-F1 {s['macro_f1']:.3f} accuracy {s['accuracy']:.3f}"
            for head, s in scores.items()
            if isinstance(s, dict)
        ]
        print(f"{name}: " + "; ".join(parts))
    cross = info.get("cross_validation")
    if cross:
        parts = [
            f"{head} macro-F1 {cross[head]['macro_f1']:.3f} accuracy {cross[head]['accuracy']:.3f}"
            for head in ("topic", "stance")
            if head in cross
        ]
        print(f"{cross['k']}-fold cross-validation: " + "; ".join(parts))
    print("full card: stance info --card")
    return 0


def _read_word_lists(path: str | None) -> dict | None:
    """The word lists of a JSON file, e.g. ``{"positive": ["milestone", "long overdue"]}``."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            lists = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a JSON file of word lists: {error}") from None
    try:
        Featurizer(lexicon=lists)  # the featurizer's own checks, before any data is read
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return lists


def _run_train(args: argparse.Namespace) -> int:
    lexicon, polarity = _read_word_lists(args.lexicon), _read_word_lists(args.polarity)
    data = _read_data(args, args.data)
    dev = _read_data(args, args.dev) if args.dev else None
    model = train(
        data,
        dev=dev,
        stance_given_topic=args.given_topic,
        C_topic=args.C_topic,
        C_stance=args.C_stance,
        class_weight=args.class_weight,
        nb_weights=args.nb_weights,
        min_df=args.min_df,
        lexicon=lexicon,
        polarity=polarity,
        solver=args.solver,
        tol=args.tol,
        cv=args.cv,
        random_state=args.random_state,
        name=args.name,
    )
    model.save(args.output)
    print(
        f"trained on {len(data)} sentences; topics: {len(model.topics)}, "
        f"stances: {len(model.stances)}; saved to {args.output}",
        file=sys.stderr,
    )
    if model.info.get("cross_validation"):
        _print_cross_validation(model.info["cross_validation"], sys.stderr)
    return 0


def _print_cross_validation(cross: dict, file) -> None:
    for head in ("topic", "stance"):
        if head in cross:
            print(
                f"{cross['k']}-fold cross-validation, {head}: accuracy "
                f"{cross[head]['accuracy']:.3f}, macro-F1 {cross[head]['macro_f1']:.3f}",
                file=file,
            )


def _run_evaluate(args: argparse.Namespace) -> int:
    data = _read_data(args, args.data)
    if args.cv:
        if args.model:
            raise ValueError("--cv cross-validates training on DATA; it takes no --model")
        report = cross_validate(data, k=args.cv, stance_given_topic=args.given_topic)
        if args.json:
            print(json.dumps(report, indent=1))
        else:
            _print_cross_validation(report, sys.stdout)
        return 0
    report = evaluate(load(args.model), data, given_topics=args.given_topic)
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def _run_score(args: argparse.Namespace) -> int:
    from .batch import score_to_file

    client = None
    backend = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--scheduler needs Dask: pip install 'diplo-stance[dask]'") from None
        client = Client(args.scheduler)
        backend = "dask"
    try:
        report = score_to_file(
            args.folder,
            args.output,
            format=args.format,
            errors=args.errors,
            summary=args.summary,
            overwrite=args.overwrite,
            show_progress=not args.quiet,
            model=args.model,
            glob=args.glob,
            jobs=args.jobs,
            text_field=args.text_field,
            id_field=args.id_field,
            probs=args.probs,
            backend=backend,
        )
    finally:
        if client is not None:
            client.close()
    if not args.quiet or report.skipped:
        print(f"stance: {report.line()}", file=sys.stderr)
    return 1 if report.skipped else 0


def _run_summarize(args: argparse.Namespace) -> int:
    from .batch import read_output, summarize, write_summary

    fmt = args.format
    if fmt is None:
        fmt = "csv" if args.output and args.output.lower().endswith(".csv") else "jsonl"
    rows = summarize(read_output(args.scored))
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as file:
            write_summary(rows, file, fmt)
    else:
        write_summary(rows, sys.stdout, fmt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
