"""The bundled demo agent: a dental-clinic receptionist over HTTP, for the examples and benchmarks."""

from callboard.core.demo.app import create_app, run_demo_agent

__all__ = ["create_app", "run_demo_agent"]
