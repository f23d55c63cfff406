"""The Feynman tutor: reads a learner's explanation and asks what a curious student would ask.

Pure Python (no Kafka, FastAPI or Faust), so the API and the stream agents are thin
adapters around it and it is tested on its own. English and Chinese are both first
class. See docs/tutor.md for what it looks for and how fast it is.

    >>> from domain.tutor import ask
    >>> ask("gravity", "Gravity kind of pulls things down.").questions[0]
    'You said “Gravity kind of pulls things down” — what exactly do you mean by “kind of” there?'
"""

from domain.tutor.language import detect_language
from domain.tutor.memory import remember
from domain.tutor.models import Finding, FindingKind, Language, Turn, TutorReply
from domain.tutor.tutor import ask, warm_up

__all__ = [
    "Finding",
    "FindingKind",
    "Language",
    "Turn",
    "TutorReply",
    "ask",
    "detect_language",
    "remember",
    "warm_up",
]
