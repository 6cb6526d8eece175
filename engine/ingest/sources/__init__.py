"""Data source adapters: Instagram Graph API (Business Discovery, Hashtag Search),
YouTube Data API v3 and scraper datasets (Instagram and TikTok item formats), each
returning the same records and problems-as-data (records.py). Nothing here writes to the
store: the sync step decides what to keep and persists the counters (HashtagBudget,
QuotaMeter) through their `to_dict`."""

from engine.ingest.sources.base import Source
from engine.ingest.sources.clock import Clock, ManualClock, SystemClock
from engine.ingest.sources.config import SourceSettings
from engine.ingest.sources.graph_limits import HashtagBudget
from engine.ingest.sources.instagram import GraphSource, HashtagFetch
from engine.ingest.sources.records import (
    CreatorFetch,
    CreatorRecord,
    PostRecord,
    SongRecord,
    SyncProblem,
    Window,
)
from engine.ingest.sources.scraper_dataset import DatasetSource, dataset_ref, read_files
from engine.ingest.sources.scraper_files import ExportError, parse_export
from engine.ingest.sources.scraper_items import ScrapedBatch, map_items
from engine.ingest.sources.youtube import YouTubeSource
from engine.ingest.sources.youtube_quota import QuotaMeter

__all__ = [
    "Clock",
    "CreatorFetch",
    "CreatorRecord",
    "DatasetSource",
    "dataset_ref",
    "ExportError",
    "GraphSource",
    "HashtagBudget",
    "HashtagFetch",
    "ManualClock",
    "PostRecord",
    "QuotaMeter",
    "ScrapedBatch",
    "SongRecord",
    "Source",
    "SourceSettings",
    "SyncProblem",
    "SystemClock",
    "Window",
    "YouTubeSource",
    "map_items",
    "parse_export",
    "read_files",
]
