"""The consolidated tag vocabulary: one canonical name per idea, and the other spellings and
synonyms that fold into it. Every way a resource gets tags (suggestions, the admin, the content
loader, the Markdown importer) stores `canonical_tag` of what was typed."""

import re
from collections.abc import Iterable

# Canonical tag -> the names that mean the same thing. A name appears once in the whole table.
# Plurals and singulars, case, spaces and underscores fold without being listed here.
TAGS: dict[str, tuple[str, ...]] = {
    "agents": ("ai-agents", "agentic-ai", "llm-agents"),
    "alerting": ("alerts",),
    "automation": (),
    "automl": (),
    "aws": ("amazon-web-services", "sagemaker", "amazon-sagemaker"),
    "awesome-list": (),
    "azure": ("microsoft-azure", "azure-ml"),
    "bash": ("shell", "shell-scripting", "command-line", "cli"),
    "benchmarks": ("benchmarking",),
    "best-practices": ("good-practices",),
    "careers": ("career", "jobs", "job-interviews"),
    "case-study": ("case-studies", "war-stories"),
    "ci-cd": ("ci", "cd", "continuous-integration", "continuous-delivery"),
    "classical-ml": ("classic-ml", "traditional-ml"),
    "cloud": ("cloud-computing",),
    "community": ("slack", "forum", "forums", "meetups", "meetup", "discord"),
    "conference": ("conferences", "talks", "talk"),
    "configuration": ("config",),
    "containers": ("container",),
    "continual-learning": ("continuous-training", "online-learning"),
    "data-catalog": ("data-catalogue", "catalog", "catalogue"),
    "data-centric-ai": ("data-centric",),
    "data-engineering": ("data-eng",),
    "data-ingestion": ("ingestion", "data-loading"),
    "data-labeling": ("data-labelling", "labeling", "labelling", "annotation", "data-annotation"),
    "data-lake": ("data-lakes", "lakehouse", "data-lakehouse", "table-formats"),
    "data-quality": ("data-validation",),
    "data-science": (),
    "data-versioning": ("dvc", "data-version-control"),
    "dataframes": (),
    "deep-learning": ("dl",),
    "demos": ("demo", "web-apps"),
    "deployment": ("model-deployment", "deploying"),
    "design-patterns": ("patterns",),
    "devops": (),
    "distributed-computing": ("distributed-systems",),
    "distributed-training": ("parallel-training",),
    "docker": (),
    "drift": ("data-drift", "model-drift", "concept-drift", "drift-detection"),
    "edge": ("edge-ai", "edge-computing", "on-device", "tinyml"),
    "end-to-end": ("e2e",),
    "experiment-tracking": ("experiment-management", "experiments"),
    "explainability": ("xai", "interpretability", "explainable-ai", "model-interpretability"),
    "fairness": ("bias", "ml-fairness"),
    "feature-store": ("feature-stores",),
    "federated-learning": (),
    "fine-tuning": ("fine-tune",),
    "fundamentals": ("basics", "introduction", "beginners"),
    "gcp": ("google-cloud", "google-cloud-platform", "vertex-ai"),
    "git": ("version-control", "pull-requests"),
    "github-actions": ("gh-actions",),
    "gitops": (),
    "go": ("golang",),
    "governance": ("ai-governance", "model-governance"),
    "gpu": (),
    "gradient-boosting": ("boosting",),
    "guardrails": ("llm-guardrails",),
    "hyperparameter-tuning": (
        "hyperparameter-optimization",
        "hyperparameter-optimisation",
        "hpo",
        "tuning",
    ),
    "inference": ("model-inference",),
    "infrastructure": ("infra",),
    "infrastructure-as-code": ("iac",),
    "interviews": ("podcast-interviews",),
    "kubernetes": ("k8s",),
    "lifecycle": ("ml-lifecycle", "process-model", "crisp-dm"),
    "lineage": ("data-lineage",),
    "llm-applications": ("llm-apps", "genai-applications"),
    "llm-evaluation": ("llm-evals", "evals", "llm-eval"),
    "llm-serving": ("llm-inference",),
    "llmops": ("genai", "generative-ai", "llms", "llm"),
    "local-llms": ("local-llm", "on-device-llms"),
    "mathematics": ("math", "maths", "linear-algebra"),
    "maturity-model": ("mlops-maturity", "adoption"),
    "metadata": ("metadata-management",),
    "metrics": (),
    "ml-engineering": ("mle", "machine-learning-engineering", "applied-ml", "model-development"),
    "ml-platforms": ("ml-platform", "platforms", "mlops-platforms", "databricks"),
    "mlflow": (),
    "mobile": ("ios", "android"),
    "model-evaluation": ("evaluation", "model-validation"),
    "model-formats": ("model-format", "serialization"),
    "model-registry": ("model-registries", "registry"),
    "model-serving": ("serving", "online-serving", "model-server", "serving-models"),
    "monitoring": ("model-monitoring", "ml-monitoring", "observability"),
    "newsletter": (),
    "notebooks": ("jupyter", "notebook"),
    "open-source": ("oss",),
    "orchestration": ("workflow-orchestration", "workflows"),
    "packaging": ("dependency-management",),
    "pipelines": ("ml-pipelines", "data-pipelines", "pipeline"),
    "privacy": ("differential-privacy", "data-privacy"),
    "production-ml": ("ml-in-production", "production", "production-readiness"),
    "prompt-management": ("prompt-engineering", "prompts"),
    "python": ("python3",),
    "pytorch": ("torch",),
    "quantization": ("quantisation",),
    "rag": ("retrieval-augmented-generation",),
    "ray": (),
    "real-time-ml": ("real-time",),
    "recsys": ("recommender-systems", "recommendations", "recommender"),
    "red-teaming": ("jailbreaks",),
    "reproducibility": ("reproducible-ml",),
    "research": ("papers", "survey", "surveys"),
    "responsible-ai": ("ethics", "ai-ethics", "trustworthy-ai"),
    "scheduling": ("job-scheduling",),
    "security": ("ml-security", "ai-security", "llm-security"),
    "software-engineering": ("software-engineering-for-ml", "se4ml"),
    "spark": ("apache-spark", "pyspark"),
    "sql": (),
    "sre": ("site-reliability-engineering", "reliability", "incident-response"),
    "statistics": ("stats",),
    "streaming": ("stream-processing", "event-streaming"),
    "supply-chain": ("software-supply-chain",),
    "system-design": ("ml-system-design", "architecture", "ml-systems"),
    "technical-debt": ("tech-debt",),
    "tensorflow": ("tf",),
    "testing": ("ml-testing", "quality-assurance", "qa", "unit-testing"),
    "tfx": ("tensorflow-extended",),
    "tooling": ("tools",),
    "tracing": ("distributed-tracing",),
    "vector-search": ("vector-database", "vector-databases", "vector-db", "embeddings-search"),
    "visualization": ("visualisation", "dataviz", "data-visualization"),
}

ALIASES: dict[str, str] = {alias: tag for tag, aliases in TAGS.items() for alias in aliases}
CANONICAL_TAGS: tuple[str, ...] = tuple(sorted(TAGS))

_SEPARATORS = re.compile(r"[\s_/]+")
_HYPHENS = re.compile(r"-{2,}")
_EDGE_PUNCTUATION = "-.,;:!?'\"()[]{}"
# Hyphens do not tell tags apart either: "fine tuning", "finetuning" and "fine-tuning" are one.
_BY_LETTERS: dict[str, str] = {
    name.replace("-", ""): ALIASES.get(name, name) for name in (*TAGS, *ALIASES)
}


def _known(name: str) -> str | None:
    return _BY_LETTERS.get(name.replace("-", ""))


def _number_variants(name: str) -> list[str]:
    """The other grammatical number of the last word: agent <-> agents, study <-> studies."""
    variants = [f"{name}s", f"{name}es"]
    if name.endswith("ies"):
        variants.append(f"{name[:-3]}y")
    if name.endswith("es"):
        variants.append(name[:-2])
    if name.endswith("s"):
        variants.append(name[:-1])
    if name.endswith("y"):
        variants.append(f"{name[:-1]}ies")
    return variants


def canonical_tag(raw: str) -> str:
    """The tag as it is stored: lower case and hyphenated, folded into the vocabulary when it
    is a known tag or alias in another case, spelling or number; an unknown tag is only tidied
    (whether its characters are acceptable is the form's question)."""
    name = _SEPARATORS.sub("-", raw.strip().casefold())
    name = _HYPHENS.sub("-", name).strip(_EDGE_PUNCTUATION)
    if not name:
        return ""
    if known := _known(name):
        return known
    for variant in _number_variants(name):
        if known := _known(variant):
            return known
    return name


def canonical_tags(raw_tags: Iterable[str]) -> list[str]:
    """Each tag in its canonical form, blanks and repeats dropped, in first-seen order."""
    return list(dict.fromkeys(tag for raw in raw_tags if (tag := canonical_tag(raw))))
