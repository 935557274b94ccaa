"""What comes back: classifying returned mail and reading it from a mailbox (tags: compose.verp)."""

from syndicator.bounces.classify import classify, message_key, read_message
from syndicator.bounces.report import Kind, RecipientStatus, Returned
from syndicator.compose.verp import DeliveryTag, UnsubscribeTag, Verp

__all__ = ["DeliveryTag", "Kind", "RecipientStatus", "Returned", "UnsubscribeTag", "Verp",
           "classify", "message_key", "read_message"]
