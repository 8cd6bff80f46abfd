"""Notices: ticket numbers, the printed notice and 予診票 (PDF), the print-vendor CSV, reminders and
reissue. The extraction that makes them is sesshu/immunization/extraction.py."""
