"""Can I trust this creator? The engine side of `/vet`: robust engagement against tier
peers, bought engagement told apart from real virality, audience authenticity from a
follower sample, sponsored share, brand safety, and one 0-100 score of these parts
(`vet(data, handle, sample, classifier) -> VetCard`)."""

from engine.vet.score import Part, VetCard, vet

__all__ = ["Part", "VetCard", "vet"]
