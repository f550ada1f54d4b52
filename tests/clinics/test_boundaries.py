"""Clinics imports only the apps below it (accounts, audit): a patient's new time zone or dose
time reaches their prescriptions as `clinics.signals.patient_timing_changed`."""

from tests.layers import below, imports_of_other_apps


def test_clinics_imports_only_the_apps_below_it():
    assert set(imports_of_other_apps("clinics")) <= set(below("clinics"))
