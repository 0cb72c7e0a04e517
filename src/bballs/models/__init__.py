"""Networks, one module per family; each assignment's declaration
(``bballs.core.assignment_<name>``) names the ones it uses."""
