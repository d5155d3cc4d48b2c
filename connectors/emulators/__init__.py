"""In-process HTTP emulators of the trackers pmsync talks to, for tests, benchmarks and the demo."""
