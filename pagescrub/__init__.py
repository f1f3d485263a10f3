"""pagescrub: scrape and clean news and article pages into one JSON record per article."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/pagescrub/pagescrub"
