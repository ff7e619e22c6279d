"""The benefits report: what joint consultations by video saved, as aggregates only.

``report`` holds the result types (every count that could point at a patient is a ``Count`` that
knows whether it must be hidden), ``settings`` the rates and targets the figures use, ``service``
the computation over the scheduling tables and the municipalities' travel data.
"""
