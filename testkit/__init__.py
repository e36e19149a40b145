"""What tests and benchmarks share: envelope builders, a test PKI for signed
requests, and starting a server and waiting for ``/health``. Never shipped.
"""
