"""Two first readers of the company profile at the same moment: one row.

`CompanyProfile.load()` creates the single row (pk = 1) when it is missing;
two threads racing on an empty table must both get it, without a 500.
"""

import pytest

from documents.models import CompanyProfile
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_first_loads_make_one_profile():
    CompanyProfile.objects.all().delete()

    results = run_in_threads(2, lambda _index: CompanyProfile.load().pk)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert results == [1, 1]
    assert CompanyProfile.objects.count() == 1
