"""The knowledge base: Markdown articles with YAML front matter under `content/kb/<lang>/`."""

from bot.knowledge.loader import KnowledgeBase, load_knowledge_base
from bot.knowledge.models import Article

__all__ = ["Article", "KnowledgeBase", "load_knowledge_base"]
