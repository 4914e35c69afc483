"""Which files the wheel holds (the project's metadata is in pyproject.toml).

A checkout keeps the add-in and the shipped models at the top level, where the README documents them
(addin_manifest/, checkpoints/); the wheel installs them inside the package that serves them:
addin_manifest/ as cf_service/addin/ and checkpoints/ as codefusion/checkpoints/. The loaders look in
the package first and in the checkout second (cf_service.settings, codefusion.generate).
pyproject.toml cannot map a folder to a package beside packages it discovers, hence this file.
"""
from setuptools import find_namespace_packages, setup

CODE = find_namespace_packages(include=["cf_rules*", "cf_service*", "codefusion*"],
                               exclude=["*.__pycache__"])
ASSETS = {"cf_service.addin": "addin_manifest", "codefusion.checkpoints": "checkpoints"}

setup(
    packages=CODE + list(ASSETS),
    package_dir=ASSETS,
    package_data={
        "cf_rules": ["cf_rules.lark"],
        # the manifest and the task pane; not the icon script or the pane's JS tests
        "cf_service.addin": ["manifest.xml", "taskpane/*"],
        # what serving reads; not training's resumable state (last/) or its logs
        "codefusion.checkpoints": ["*/config.json", "*/model.safetensors", "*/tokenizer.json",
                                   "*/encoder_tokenizer.json"],
    },
    include_package_data=False,
)
