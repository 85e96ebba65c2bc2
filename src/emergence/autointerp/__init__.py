"""AutoInterp: a teacher labels each live SAE latent and verifies its label on held-out texts.

Entry point: `autointerp` (one SAE's fit / eval codes + the samples table + a `Teacher`). Teachers:
`EmbeddingTeacher` (offline, weaker), `ChatTeacher` over `OpenAIBackend` (any OpenAI-compatible
server) or `VllmBackend` (in-process vLLM); `make_teacher` builds one from a config section.
Encoding an SAE's codes by split (`emergence.autointerp.codes`) is not re-exported here: this
package is imported when the workflow validates its config, and that module pulls in torch.
The artifacts' readers and writers are in `emergence.autointerp.io`.
"""

from emergence.autointerp.cache import AnswerCache, cache_key
from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.embedding_teacher import EmbeddingTeacher, EmbeddingTeacherConfig
from emergence.autointerp.examples import Activity, activity
from emergence.autointerp.factory import make_teacher
from emergence.autointerp.metrics import METRIC_COLUMNS, LatentMetrics, latent_metrics
from emergence.autointerp.openai_teacher import OpenAIBackend, OpenAIConfig
from emergence.autointerp.prompts import prompt_version
from emergence.autointerp.run import (
    VERIFY_SCHEMA,
    AutoInterpResult,
    autointerp,
    interpretable_latents,
)
from emergence.autointerp.teacher import (
    ChatTeacher,
    LabelAnswer,
    LabelRequest,
    Teacher,
    TeacherError,
    VerifyAnswer,
    VerifyRequest,
)
from emergence.autointerp.usage import Usage
from emergence.autointerp.vllm_teacher import VllmBackend, VllmConfig

__all__ = [
    "METRIC_COLUMNS",
    "VERIFY_SCHEMA",
    "Activity",
    "AnswerCache",
    "AutoInterpConfig",
    "AutoInterpResult",
    "ChatTeacher",
    "EmbeddingTeacher",
    "EmbeddingTeacherConfig",
    "LabelAnswer",
    "LabelRequest",
    "LatentMetrics",
    "OpenAIBackend",
    "OpenAIConfig",
    "Teacher",
    "TeacherError",
    "Usage",
    "VerifyAnswer",
    "VerifyRequest",
    "VllmBackend",
    "VllmConfig",
    "activity",
    "autointerp",
    "cache_key",
    "interpretable_latents",
    "latent_metrics",
    "make_teacher",
    "prompt_version",
]
