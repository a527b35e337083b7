"""The monthly receipt (ЕПД) as a one-page A4 PDF with two ГОСТ Р 56042-2014 payment QR codes.

``service`` gathers what the receipt prints, ``render`` draws it, ``qr`` builds the payment codes'
text, ``payees`` holds the two payees' bank requisites.
"""
