"""Workflows of each course Task, called by the notebooks. Each assignment's declaration
(``bballs.core.assignment_<name>``) maps its Tasks to these modules."""
