// Writes N pre-signed text pushes for wrk (scripts/bench/pushes.lua), one
// "path<TAB>body" per line, each with its own MsgId, nonce and signature;
// `safe` seals each body (WXBizMsgCrypt, from the npm package the peer uses).
// Usage: node make-pushes.js plain|safe N FIRST_MSG_ID TOKEN APPID KEY > file
const crypto = require('crypto');
const WXBizMsgCrypt = require('wechat-crypto');

const [mode, n, first, token, appid, key] = process.argv.slice(2);
const cryptor = new WXBizMsgCrypt(token, key, appid);
const ts = String(Math.floor(Date.now() / 1000));
const sha1 = (parts) => crypto.createHash('sha1').update(parts.sort().join('')).digest('hex');
const out = [];
const flush = () => { process.stdout.write(out.join('')); out.length = 0; };
for (let i = 0; i < Number(n); i++) {
  const msgId = BigInt(first) + BigInt(i);
  const nonce = String(1000000000 + i);
  const from = 'oBENCHfollower' + String(i % 1000).padStart(4, '0');
  const inner = `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好 ${i}]]></Content><MsgId>${msgId}</MsgId></xml>`;
  let path = `/wechat?signature=${sha1([token, ts, nonce])}&timestamp=${ts}&nonce=${nonce}&openid=${from}`;
  let body = inner;
  if (mode === 'safe') {
    const encrypt = cryptor.encrypt(inner);
    path += `&encrypt_type=aes&msg_signature=${cryptor.getSignature(ts, nonce, encrypt)}`;
    body = `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  }
  out.push(path, '\t', body, '\n');
  if (out.length > 40000) flush();
}
flush();
