from celery import shared_task

from giveaways import services


@shared_task(name="giveaways.raffle_tick")
def raffle_tick_task() -> dict:
    report = services.raffle_tick()
    return {"opened": report.opened, "drawn": report.drawn}


@shared_task(name="giveaways.raffle_winners_notify")
def raffle_winners_notify_task(raffle_id: int) -> int:
    return services.raffle_winners_notify(raffle_id)
