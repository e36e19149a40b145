"""Shipping the skill: the skill package for ``ask deploy`` and the Lambda zip.

``python -m deploy.package_skill`` (``make skill-package``) assembles
``build/skill-package/``; ``python -m deploy.package_lambda`` (``make package``)
builds ``dist/lambda.zip``. Nothing here is imported by the running skill.
"""
