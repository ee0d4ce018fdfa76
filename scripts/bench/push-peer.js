// The peer of scripts/bench-push.sh: node-webot's `wechat` middleware (npm,
// pinned by the bench script) on express, answering every text push with
// the same help text wxh5's default handler sends. Signature check, XML
// parse, decrypt/encrypt in safe mode; no dedup, no replay checks.
// Usage: node push-peer.js PORT TOKEN APPID ENCODING_AES_KEY
const express = require('express');
const wechat = require('wechat');

const [port, token, appid, encodingAESKey] = process.argv.slice(2);
const help = '你好！这里是公众号的自动回复。点击下方菜单打开网页，或发送“帮助”查看本说明。';
const app = express();
app.get('/healthz', (req, res) => res.end('ok'));
app.use('/wechat', wechat({ token, appid, encodingAESKey }, (req, res) => res.reply(help)));
app.listen(Number(port), '127.0.0.1');
