"""`photosync admin`: operator commands for a deployment (docs/deploy.md, "Operating it")."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

app = typer.Typer(help="Operate a deployment: replay failed events.", no_args_is_help=True)

# The functions whose failed events can be replayed, and their handlers (as in infra/template.yaml).
REPLAYABLE = {
    "finalize": "photosync.handlers.finalize.handler",
    "cleanup": "photosync.handlers.cleanup.handler",
}


@app.command()
def redrive(
    queue_url: str = typer.Option(..., help="The dead-letter queue (stack outputs FinalizeDeadLetterQueue, CleanupDeadLetterQueue)."),
    function: str = typer.Option(..., help=f"The function whose events these are: {', '.join(REPLAYABLE)}."),
    lambda_function: Optional[str] = typer.Option(
        None, help="Replay by invoking this deployed Lambda function (name or ARN) instead of running the handler here."
    ),
    limit: int = typer.Option(1000, min=1, help="Replay at most this many messages."),
) -> None:
    """Replay dead-lettered events through the function's handler; each message is deleted only once
    its replay succeeded, so a failing one stays in the queue."""
    from photosync.adapters.dead_letters import DeployedFunction, HandlerInThisProcess, SqsDeadLetterQueue
    from photosync.services.redrive import redrive as replay_dead_letters

    console = Console(stderr=True, highlight=False)
    if function not in REPLAYABLE:
        console.print(f"Unknown function {function!r}: use one of {', '.join(REPLAYABLE)}.", markup=False)
        raise typer.Exit(2)
    replay = DeployedFunction(lambda_function) if lambda_function else HandlerInThisProcess(function, REPLAYABLE[function])
    with Progress(TextColumn("Replaying dead letters"), BarColumn(), MofNCompleteColumn(), console=console) as progress:
        task = progress.add_task("redrive", total=None)

        def show(letter, error):  # noqa: ANN001, ANN202
            progress.advance(task)
            if error:
                progress.console.print(f"kept {letter.message_id}: {error}", markup=False, soft_wrap=True)

        report = replay_dead_letters(SqsDeadLetterQueue(queue_url), replay, limit=limit, on_letter=show)
    console.print(f"Replayed {report.replayed} event(s); {len(report.failed)} failed and stay in the queue.", soft_wrap=True)
    if report.failed:
        console.print("Fix the cause (see the messages above and the function's logs), then run redrive again.", soft_wrap=True)
        raise typer.Exit(1)
