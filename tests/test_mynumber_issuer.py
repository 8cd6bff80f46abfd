from sesshu.core.numbers import validate_mynumber
from sesshu.residents.models import Resident
from sesshu.residents.mynumber_issuer import LocalIssuerSimulator, issuer


def test_the_simulator_gives_valid_stable_and_distinct_numbers():
    simulator = LocalIssuerSimulator()
    numbers = [simulator.number_for(Resident(resident_number=str(10**9 + n))) for n in range(1, 5001)]
    assert all(validate_mynumber(number) == number for number in numbers)
    assert len(set(numbers)) == len(numbers)
    again = simulator.number_for(Resident(resident_number=str(10**9 + 1)))
    assert again == numbers[0]


def test_the_issuer_is_chosen_by_settings(settings):
    settings.SESSHU_MYNUMBER_ISSUER = "sesshu.residents.mynumber_issuer.LocalIssuerSimulator"
    assert isinstance(issuer(), LocalIssuerSimulator)
