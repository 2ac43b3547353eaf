"""The offer sweep: lapse waitlist offers that are due, in their event's order.

An offer's expiry is decided like every other command: the sweep only finds the offers whose
`offerExpiresAt` has passed (an index on it: `OpenOffers`) and queues an `expire_offer` command
into each one's event group. An accept queued before that command wins; one queued after loses
(and one made after the expiry loses anyway: the decision compares its time with the offer's).

On AWS an EventBridge schedule runs the sweep every minute; locally the stack runs it every few
seconds. The request id of an expiry is derived from the offer, so two sweeps that find the same
offer queue the same request, and it is decided once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chalicelib.registrations.domain import RequestType
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import CommandQueue, DueOffer, OpenOffers
from chalicelib.shared.clock import Clock

SWEEP_LIMIT = 1000  # offers queued per run; a larger backlog goes on in the next run


def expiry_request_id(offer: DueOffer) -> str:
    digest = hashlib.sha256(f"{offer.event_id}\n{offer.user_id}\n{offer.expires_at}".encode()).hexdigest()
    return f"expire-{digest[:32]}"


def expiry(offer: DueOffer, now: str) -> CommandMessage:
    """The command that lapses `offer`, unless it is answered first."""
    return CommandMessage(
        type=RequestType.EXPIRE_OFFER,
        requestId=expiry_request_id(offer),
        eventId=offer.event_id,
        userId=offer.user_id,
        offerExpiresAt=offer.expires_at,
        createdAt=now,
    )


@dataclass
class OfferSweep:
    offers: OpenOffers
    queue: CommandQueue
    clock: Clock
    limit: int = SWEEP_LIMIT

    def run(self) -> int:
        """Queue the expiry of every open offer due by now (oldest first); how many were queued."""
        now = self.clock.now()
        due = self.offers.due(now, self.limit)
        for offer in due:
            self.queue.send(expiry(offer, now))
        return len(due)
