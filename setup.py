"""Maps the component folders onto one import package, ``headrace``.

The repository's top-level folders are the components (DESIGN §2); installed, they are
``headrace`` (toolkit/), ``headrace.extractors``, ``headrace.transformations``,
``headrace.orchestrator`` and the data-only ``headrace.project_template``.
"""

from setuptools import find_packages, setup

ROOTS = {
    "headrace": "toolkit",
    "headrace.extractors": "extractors",
    "headrace.transformations": "transformations",
    "headrace.orchestrator": "orchestrator",
    "headrace.project_template": "project_template",
}

packages: list[str] = []
package_dir: dict[str, str] = {}
for package, folder in ROOTS.items():
    package_dir[package] = folder
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "headrace": ["py.typed", "workers/docker/*.Dockerfile", "docsite/assets/*"],
        "headrace.project_template": ["**/*", ".gitignore"],
    },
    include_package_data=False,
)
