"""sesshu (接種): immunization administration for Japanese municipalities."""
