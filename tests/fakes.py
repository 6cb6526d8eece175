"""Small real model kinds for pipeline, registry and reload tests."""

from engine.core.artifact_io import pack, unpack
from engine.core.contract import TrainResult


class CountKind:
    """A tiny real model: per-handle post counts; its quality is configurable."""

    depends_on = ()

    def __init__(self, kind: str, quality: float = 0.5, fail: bool = False) -> None:
        self.kind, self.quality, self.fail = kind, quality, fail

    def train(self, data, ctx):
        if self.fail:
            raise RuntimeError("boom")
        counts = data.posts.groupby("handle").size()
        payload = pack({"handles": counts.index.to_numpy(dtype=str), "n": counts.to_numpy()})
        return TrainResult(payload, {"quality": self.quality}, {"p": 1}, "quality", model=counts)

    def load(self, payload):
        arrays, _ = unpack(payload)
        return dict(zip(arrays["handles"].tolist(), arrays["n"].tolist(), strict=True))
