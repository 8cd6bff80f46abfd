"""Certificates: 予防接種済証 and 接種証明書 with SMART Health Cards (docs/certificates.md).

shc: the card format (payload, JWS, shc:/ text, QR); keys: the city's issuer keys; pdf: the printed
certificates; services: issuing, the register, revocation and verification, each audited.
"""
