"""An outside check of wxh5's WeChat Pay signatures with Python's
`cryptography` (not wxh5's code): reads JSON on stdin with the merchant's
public key, one request wxh5 sent to WeChat Pay and the cashier parameters
it gave the page; verifies the request's Authorization signature over
METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n and the paySign over
appId\\ntimeStamp\\nnonceStr\\npackage\\n (SHA256withRSA, PKCS#1 v1.5); makes
sure an altered message does not verify. Prints "ok" or exits non-zero."""

import base64
import json
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def verifies(key, signature_b64, message):
    try:
        key.verify(base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def main():
    data = json.load(sys.stdin)
    key = serialization.load_pem_public_key(data["merchant_public_key"].encode())

    auth = data["authorization"]
    if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
        sys.exit("not an API v3 Authorization header")
    items = dict(re.findall(r'(\w+)="([^"]*)"', auth[len("WECHATPAY2-SHA256-RSA2048 "):]))
    message = "\n".join([data["method"], data["path_and_query"], items["timestamp"], items["nonce_str"], data["body"]]) + "\n"
    if not verifies(key, items["signature"], message.encode()):
        sys.exit("the request signature does not verify")
    if verifies(key, items["signature"], message.replace(data["method"], "PUT", 1).encode()):
        sys.exit("an altered request message verifies")

    p = data["get_brand_wcpay_request"]
    pay_message = "\n".join([p["appId"], p["timeStamp"], p["nonceStr"], p["package"]]) + "\n"
    if not verifies(key, p["paySign"], pay_message.encode()):
        sys.exit("paySign does not verify")
    if verifies(key, p["paySign"], pay_message.replace("prepay_id=", "prepay_id=x", 1).encode()):
        sys.exit("an altered paySign message verifies")
    print("ok")


main()
