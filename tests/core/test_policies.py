"""Library policies as data (grading/core/policies.py): unit tests."""

import pytest

from grading.core.policies import POLICIES, Policy, policy_named
from grading.core.sandbox import this_host
from helpers.checking import FORBIDDEN_LIBRARIES


def test_no_policy_allows_a_library_the_students_are_told_not_to_use():
    for policy in POLICIES.values():
        allowed = {name.split(".")[0] for name in policy.packages}
        assert not allowed & set(policy.forbidden), policy.name
    assert set(FORBIDDEN_LIBRARIES) <= set(POLICIES["numpy"].forbidden)
    assert set(FORBIDDEN_LIBRARIES) - {"torch"} <= set(POLICIES["torch"].forbidden)
    assert "torch" in POLICIES["torch"].packages and "torch" in POLICIES["numpy"].forbidden


def test_every_package_of_a_policy_is_in_the_grader_s_site_packages():
    host = this_host()
    for policy in POLICIES.values():
        assert set(policy.packages) <= host.site_entries | {"numpy.libs", "torch.libs"}, policy.name


def test_the_torch_policy_sets_pytorch_s_threads_and_the_numpy_policy_leaves_pytorch_alone():
    assert POLICIES["torch"].threads == 1 and POLICIES["numpy"].threads == 0
    assert not any("torch" in line for line in POLICIES["numpy"].prelude)


def test_a_policy_is_found_by_name_and_an_unknown_name_is_refused():
    assert policy_named("torch") is POLICIES["torch"]
    assert policy_named(POLICIES["numpy"]) is POLICIES["numpy"]
    with pytest.raises(ValueError, match="unknown policy 'jax'; one of numpy, torch"):
        policy_named("jax")


def test_a_policy_cannot_be_changed():
    with pytest.raises(AttributeError):
        POLICIES["numpy"].packages = ("numpy", "scipy")
    assert isinstance(POLICIES["numpy"], Policy)
