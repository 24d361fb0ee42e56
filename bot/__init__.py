"""subsidy-advisor: answers about Japanese SME support programs, from cited documents only."""
