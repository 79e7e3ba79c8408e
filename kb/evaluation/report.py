"""Markdown tables and one-line summaries of the evaluation reports (labels in Dutch)."""

from __future__ import annotations

from kb.evaluation.metrics import AnswerReport, AnswerScores, RetrievalReport, RetrievalScores, Timing

_MAX_TEXT = 90


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def format_timing(timing: Timing) -> str:
    """``Tijd per vraag (n=60): mediaan 120 ms, p95 340 ms``."""
    if not timing.n:
        return "Tijd per vraag: geen metingen."
    return f"Tijd per vraag (n={timing.n}): mediaan {_ms(timing.median)}, p95 {_ms(timing.p95)}, max {_ms(timing.max)}"


def _retrieval_row(label: str, s: RetrievalScores, ks: tuple[int, ...]) -> str:
    return "| " + " | ".join([_cell(label), str(s.n), *(_num(s.recall[k]) for k in ks), _num(s.mrr)]) + " |"


def format_retrieval_table(report: RetrievalReport) -> str:
    """Scores (totaal, per type, per onderwerp), the questions whose first hit is not gold, and timing."""
    ks = report.ks
    lines = [
        "| Groep | n | " + " | ".join(f"R@{k}" for k in ks) + " | MRR |",
        "|---|---:|" + "---:|" * len(ks) + "---:|",
        _retrieval_row("totaal", report.overall, ks),
    ]
    lines += [_retrieval_row(f"type: {name}", s, ks) for name, s in report.by_type.items()]
    lines += [_retrieval_row(f"onderwerp: {name}", s, ks) for name, s in report.by_topic.items()]
    if report.n_negative:
        lines.append("")
        lines.append(f"{report.n_negative} negatieve controlevragen tellen niet mee voor recall en MRR.")
    lines.append("")
    if report.misses:
        lines.append(f"Vragen zonder goede bron op plaats 1 ({len(report.misses)}):")
        lines.append("")
        for m in report.misses:
            where = "niet gevonden" if m.rank is None else f"goede bron op plaats {m.rank}"
            first = m.first.label() if m.first else "(niets gevonden)"
            lines.append(
                f"- {m.id} ({where}): {_short(m.question)} — verwacht {', '.join(m.gold)}; "
                f"eerste treffer: {_short(first)}"
            )
    else:
        lines.append("Alle vragen hebben een goede bron op plaats 1.")
    lines.append("")
    lines.append(format_timing(report.timing))
    return "\n".join(lines)


def _answer_row(label: str, s: AnswerScores) -> str:
    cells = [
        label,
        str(s.n),
        _num(s.must_contain),
        _num(s.citation),
        _num(s.wrong_refusal),
        str(s.n_negative),
        _num(s.refusal),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def format_answer_table(report: AnswerReport) -> str:
    """Answer scores (totaal, per type, per onderwerp), the failed questions, and timing."""
    lines = [
        "| Groep | n | bevat feiten | juiste bron | onterecht geweigerd | n negatief | terecht geweigerd |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _answer_row("totaal", report.overall),
    ]
    lines += [_answer_row(f"type: {name}", s) for name, s in report.by_type.items()]
    lines += [_answer_row(f"onderwerp: {name}", s) for name, s in report.by_topic.items()]
    lines.append("")
    if report.failures:
        lines.append(f"Niet geslaagde vragen ({len(report.failures)}):")
        lines.append("")
        for f in report.failures:
            if f.negative:
                problems = ["beantwoord in plaats van geweigerd"]
            else:
                problems = []
                if f.refused:
                    problems.append("onterecht geweigerd")
                if f.missing:
                    problems.append("mist " + ", ".join(f"'{m}'" for m in f.missing))
                if not f.cited_ok:
                    problems.append("geen juiste bron geciteerd")
            lines.append(f"- {f.id}: {_short(f.question)} — {'; '.join(problems)}")
    else:
        lines.append("Alle vragen geslaagd.")
    lines.append("")
    lines.append(format_timing(report.timing))
    return "\n".join(lines)


def retrieval_summary(report: RetrievalReport) -> str:
    """``Retrieval (n=54): R@1 0.630 · R@5 0.870 · R@10 0.926 · MRR 0.731 · mediaan 120 ms · p95 300 ms``."""
    s = report.overall
    parts = [f"R@{k} {_num(s.recall[k])}" for k in report.ks] + [f"MRR {_num(s.mrr)}"]
    parts += [f"mediaan {_ms(report.timing.median)}", f"p95 {_ms(report.timing.p95)}"]
    return f"Retrieval (n={s.n}): " + " · ".join(parts)


def answer_summary(report: AnswerReport) -> str:
    """``Antwoorden (n=54): feiten 0.80 · bron 0.90 · onterecht geweigerd 0.04 · negatief (n=6) geweigerd 0.83``."""
    s = report.overall
    return (
        f"Antwoorden (n={s.n}): feiten {_num(s.must_contain)} · bron {_num(s.citation)} · "
        f"onterecht geweigerd {_num(s.wrong_refusal)} · negatief (n={s.n_negative}) geweigerd {_num(s.refusal)}"
        f" · mediaan {_ms(report.timing.median)}"
    )


def summary_line(report: RetrievalReport | AnswerReport) -> str:
    """The one-line summary of either report."""
    if isinstance(report, RetrievalReport):
        return retrieval_summary(report)
    return answer_summary(report)
