"""Parametrises the shared endpoint suite's ``filter_case`` argument with each subclass's filter cases."""


def pytest_generate_tests(metafunc):
    if "filter_case" in metafunc.fixturenames:
        cases = metafunc.cls.filter_cases
        metafunc.parametrize("filter_case", cases, ids=[case.id for case in cases])
