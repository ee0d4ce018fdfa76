/*
 * wxh5's simulated WeChat browser (模拟微信), served by the backend in
 * simulator mode at /__sim/wx/bridge.js and injected ahead of the page's
 * own scripts. It makes a desktop browser behave like WeChat's web view for
 * the page: a WeChat user agent (iOS or Android), `WeixinJSBridge` with
 * every JS-SDK call answered in WeChat's shapes, `preVerifyJSAPI` checked
 * by the simulator (the jsapi_ticket stays on the server), the open tags
 * rendered from their templates, and WeChat's own UI: title bar and ···
 * menu, action sheets, the cashier, the subscribe popup. On a wide screen
 * the page runs in a phone frame (an iframe); on a narrow one the UI sits
 * over the page.
 *
 * Settings live in localStorage under `wxsim.settings` (JSON):
 *   platform   "ios" | "android"          (default: from the real user agent, else iOS)
 *   verifyUrl  "platform" | "landing" | "current"
 *              which URL preVerifyJSAPI checks: the platform's rule (iOS the
 *              landing URL, Android the current one) or one of them always
 *   frame      "auto" | "on" | "off"       (auto: on when the window is wide)
 *   latitude, longitude                    what getLocation answers
 *   network    "wifi" | "5g" | "4g" | "3g" | "2g" | "none"
 * Tests set them before the page loads. A real WeChat (its user agent says
 * MicroMessenger) never runs any of this.
 */
(() => {
  'use strict';
  if (window.__wxsim) return;
  const REAL_UA = navigator.userAgent;
  if (/micromessenger/i.test(REAL_UA)) return;

  // ---- settings -----------------------------------------------------------

  const SETTINGS_KEY = 'wxsim.settings';
  const DEFAULTS = {
    platform: '',
    verifyUrl: 'platform',
    frame: 'auto',
    latitude: 22.54286,
    longitude: 114.05956,
    network: 'wifi',
  };
  const readSettings = () => {
    try {
      const stored = JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}');
      return Object.assign({}, DEFAULTS, stored && typeof stored === 'object' ? stored : {});
    } catch (e) {
      return Object.assign({}, DEFAULTS);
    }
  };
  const writeSettings = (next) => {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
    } catch (e) {
      /* private mode: the change lasts this page only */
    }
  };
  const settings = readSettings();
  const platform = settings.platform === 'android' || settings.platform === 'ios'
    ? settings.platform
    : (/android/i.test(REAL_UA) ? 'android' : 'ios');
  const IOS = platform === 'ios';
  const USER_AGENTS = {
    ios: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x18003237) NetType/WIFI Language/zh_CN wxh5sim',
    android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300333 MMWEBSDK/20240802 MMWEBID/1234 MicroMessenger/8.0.50.2701(0x28003255) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64 wxh5sim',
  };
  const MAX_LOG = 200;
  const MAX_RESOURCES = 64;
  const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
  const MAX_RECORD_MS = 60000;

  const wantsFrame = () => settings.frame === 'on'
    || (settings.frame !== 'off' && window.innerWidth >= 760 && window.innerHeight >= 560);

  // ---- styles (adopted style sheets: no inline <style>, any CSP) -----------

  const CSS = `
.wxsim-vars{--wxsim-nav:#ededed;--wxsim-fg:rgba(0,0,0,.9);--wxsim-sub:rgba(0,0,0,.55);--wxsim-panel:#fff;--wxsim-panel2:#f7f7f7;--wxsim-line:rgba(0,0,0,.1);--wxsim-mask:rgba(0,0,0,.6);--wxsim-green:#07c160;--wxsim-red:#fa5151;--wxsim-link:#576b95;--wxsim-desk:#dcdcdc;--wxsim-bezel:#1c1c1e;--wxsim-badge:#fa9d3b;color-scheme:light}
@media (prefers-color-scheme:dark){.wxsim-vars{--wxsim-nav:#111;--wxsim-fg:rgba(255,255,255,.8);--wxsim-sub:rgba(255,255,255,.5);--wxsim-panel:#191919;--wxsim-panel2:#2c2c2c;--wxsim-line:rgba(255,255,255,.1);--wxsim-mask:rgba(0,0,0,.7);--wxsim-link:#7d90a9;--wxsim-desk:#0b0b0b;--wxsim-bezel:#3a3a3c;color-scheme:dark}}
.wxsim-vars,.wxsim-vars *{box-sizing:border-box;font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Microsoft YaHei",sans-serif;-webkit-tap-highlight-color:transparent}
wxsim-ui{all:initial;position:fixed;inset:0;z-index:2147483647;pointer-events:none;display:block}
.wxsim-layer{position:absolute;inset:0;pointer-events:none;overflow:hidden;z-index:20}
.wxsim-layer>*{pointer-events:auto}
.wxsim-mask{position:absolute;inset:0;background:var(--wxsim-mask);display:flex;align-items:center;justify-content:center}
.wxsim-mask.wxsim-bottom{align-items:flex-end}
.wxsim-sheet{width:100%;background:var(--wxsim-panel2);color:var(--wxsim-fg);border-radius:12px 12px 0 0;overflow:hidden;padding-bottom:env(safe-area-inset-bottom)}
.wxsim-sheet-title{padding:16px 24px;text-align:center;font-size:12px;color:var(--wxsim-sub);background:var(--wxsim-panel)}
.wxsim-sheet-item{display:block;width:100%;padding:16px;text-align:center;font-size:17px;color:var(--wxsim-fg);background:var(--wxsim-panel);border:0;border-top:1px solid var(--wxsim-line);cursor:pointer;margin:0}
.wxsim-sheet-item.wxsim-warn{color:var(--wxsim-red)}
.wxsim-sheet-cancel{margin-top:8px;border-top:0}
.wxsim-dialog{width:min(320px,86%);background:var(--wxsim-panel);color:var(--wxsim-fg);border-radius:12px;overflow:hidden;text-align:center}
.wxsim-dialog-title{padding:32px 24px 8px;font-size:17px;font-weight:700}
.wxsim-dialog-body{padding:0 24px 24px;font-size:15px;color:var(--wxsim-sub);word-break:break-all;white-space:pre-wrap;max-height:50vh;overflow:auto;text-align:left}
.wxsim-dialog-body.wxsim-center{text-align:center}
.wxsim-dialog-buttons{display:flex;border-top:1px solid var(--wxsim-line)}
.wxsim-dialog-button{flex:1;padding:16px 0;font-size:17px;font-weight:700;border:0;background:none;color:var(--wxsim-fg);cursor:pointer}
.wxsim-dialog-button+.wxsim-dialog-button{border-left:1px solid var(--wxsim-line)}
.wxsim-dialog-button.wxsim-primary{color:var(--wxsim-green)}
.wxsim-input{display:block;width:100%;margin:8px 0 0;padding:10px 12px;font-size:15px;border:1px solid var(--wxsim-line);border-radius:8px;background:var(--wxsim-panel2);color:var(--wxsim-fg)}
.wxsim-row{display:flex;align-items:center;justify-content:space-between;gap:12px;padding:10px 0;border-bottom:1px solid var(--wxsim-line);font-size:15px;color:var(--wxsim-fg)}
.wxsim-row select,.wxsim-row input{font-size:15px;background:var(--wxsim-panel2);color:var(--wxsim-fg);border:1px solid var(--wxsim-line);border-radius:6px;padding:4px 6px;max-width:60%}
.wxsim-toast{position:absolute;left:50%;top:42%;transform:translate(-50%,-50%);min-width:120px;max-width:80%;padding:16px 20px;border-radius:12px;background:rgba(76,76,76,.94);color:#fff;font-size:15px;text-align:center;pointer-events:none;white-space:pre-wrap}
.wxsim-pill{position:absolute;top:8px;right:8px;display:flex;align-items:center;gap:6px;padding:4px 6px 4px 10px;border-radius:16px;background:rgba(0,0,0,.55);color:#fff;font-size:12px;line-height:20px;border:0;cursor:pointer;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.wxsim-pill b{font-weight:700;font-size:16px;letter-spacing:1px;padding:0 4px}
.wxsim-badge{display:inline-block;padding:0 8px;border-radius:9px;background:var(--wxsim-badge);color:#fff;font-size:11px;line-height:18px;font-weight:600;white-space:nowrap}
.wxsim-menu{padding:16px 0 0}
.wxsim-menu-row{display:flex;gap:8px;overflow-x:auto;padding:0 16px 16px}
.wxsim-menu-row+.wxsim-menu-row{border-top:1px solid var(--wxsim-line);padding-top:16px}
.wxsim-menu-item{flex:0 0 64px;display:flex;flex-direction:column;align-items:center;gap:8px;border:0;background:none;color:var(--wxsim-sub);font-size:11px;cursor:pointer;padding:0}
.wxsim-menu-icon{width:52px;height:52px;border-radius:12px;background:var(--wxsim-panel);display:flex;align-items:center;justify-content:center;font-size:22px;color:var(--wxsim-fg)}
.wxsim-card{margin:8px 24px 24px;padding:12px;border-radius:8px;background:var(--wxsim-panel2);text-align:left;display:flex;gap:10px;align-items:flex-start}
.wxsim-card.wxsim-timeline{align-items:center}
.wxsim-card img{width:48px;height:48px;object-fit:cover;border-radius:4px;flex:none;background:var(--wxsim-line)}
.wxsim-card-title{font-size:16px;color:var(--wxsim-fg);word-break:break-all}
.wxsim-card-desc{font-size:13px;color:var(--wxsim-sub);margin-top:4px;word-break:break-all}
.wxsim-card-link{font-size:11px;color:var(--wxsim-sub);margin:-16px 24px 16px;text-align:left;word-break:break-all}
.wxsim-pay{width:100%;background:var(--wxsim-panel);color:var(--wxsim-fg);border-radius:12px 12px 0 0;padding:16px 24px 24px;text-align:center}
.wxsim-pay-top{display:flex;justify-content:space-between;align-items:center;font-size:15px;color:var(--wxsim-sub)}
.wxsim-pay-close{border:0;background:none;font-size:20px;color:var(--wxsim-fg);cursor:pointer;padding:0 4px}
.wxsim-pay-desc{margin-top:24px;font-size:15px;color:var(--wxsim-fg)}
.wxsim-pay-amount{margin:8px 0 24px;font-size:40px;font-weight:600;color:var(--wxsim-fg)}
.wxsim-pay-amount small{font-size:24px;margin-right:4px}
.wxsim-pay-method{display:flex;justify-content:space-between;padding:12px 0;border-top:1px solid var(--wxsim-line);border-bottom:1px solid var(--wxsim-line);font-size:14px;color:var(--wxsim-sub);margin-bottom:24px}
.wxsim-button{display:block;width:100%;padding:12px;border:0;border-radius:8px;font-size:17px;font-weight:600;cursor:pointer;background:var(--wxsim-green);color:#fff}
.wxsim-button.wxsim-plain{background:none;color:var(--wxsim-link);font-weight:400;font-size:14px;margin-top:8px}
.wxsim-switch{display:flex;align-items:center;justify-content:space-between;gap:12px;padding:12px 24px;border-top:1px solid var(--wxsim-line);font-size:15px;text-align:left;color:var(--wxsim-fg)}
.wxsim-switch input{width:20px;height:20px;accent-color:var(--wxsim-green)}
.wxsim-viewer{position:absolute;inset:0;background:#000;display:flex;align-items:center;justify-content:center;cursor:zoom-out}
.wxsim-viewer img{max-width:100%;max-height:100%}
.wxsim-viewer span{position:absolute;bottom:16px;left:0;right:0;text-align:center;color:#fff;font-size:13px}
.wxsim-closed{position:absolute;inset:0;background:var(--wxsim-panel2);color:var(--wxsim-sub);display:flex;flex-direction:column;align-items:center;justify-content:center;gap:16px;font-size:15px}
.wxsim-closed .wxsim-button{width:auto;padding:8px 24px}
.wxsim-shell{margin:0;min-height:100vh;background:var(--wxsim-desk);display:flex;justify-content:center;align-items:flex-start;gap:32px;padding:24px}
.wxsim-phone{flex:none;position:relative;width:390px;height:min(844px,calc(100vh - 48px));border:12px solid var(--wxsim-bezel);border-radius:48px;overflow:hidden;background:var(--wxsim-nav);box-shadow:0 12px 40px rgba(0,0,0,.35);display:flex;flex-direction:column}
.wxsim-phone.wxsim-android{width:372px;height:min(800px,calc(100vh - 48px));border-radius:28px}
.wxsim-status{flex:none;height:47px;display:flex;align-items:center;justify-content:space-between;padding:0 28px;font-size:14px;font-weight:600;color:var(--wxsim-fg);background:var(--wxsim-nav)}
.wxsim-android .wxsim-status{height:30px;padding:0 16px;font-size:12px}
.wxsim-nav{flex:none;height:44px;display:grid;grid-template-columns:56px 1fr 56px;align-items:center;background:var(--wxsim-nav);color:var(--wxsim-fg);border-bottom:1px solid var(--wxsim-line)}
.wxsim-android .wxsim-nav{height:48px}
.wxsim-nav-title{text-align:center;font-size:17px;font-weight:600;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.wxsim-nav button{border:0;background:none;color:var(--wxsim-fg);font-size:20px;cursor:pointer;height:44px}
.wxsim-nav .wxsim-more{font-weight:700;letter-spacing:1px}
.wxsim-screen{flex:1;position:relative;background:var(--wxsim-panel2)}
.wxsim-screen iframe{position:absolute;inset:0;width:100%;height:100%;border:0;background:var(--wxsim-panel2)}
.wxsim-side{flex:0 1 420px;max-width:420px;color:var(--wxsim-fg);font-size:14px;max-height:calc(100vh - 48px);display:flex;flex-direction:column;gap:12px}
.wxsim-side h1{margin:0;font-size:20px;display:flex;align-items:center;gap:8px}
.wxsim-side p{margin:0;color:var(--wxsim-sub);line-height:1.5}
.wxsim-side-buttons{display:flex;flex-wrap:wrap;gap:8px}
.wxsim-side-buttons button{border:1px solid var(--wxsim-line);background:var(--wxsim-panel);color:var(--wxsim-fg);border-radius:6px;padding:6px 12px;font-size:13px;cursor:pointer}
.wxsim-log{flex:1;overflow:auto;background:var(--wxsim-panel);border-radius:8px;padding:8px 12px;font:12px/1.5 ui-monospace,monospace;min-height:120px}
.wxsim-log div{border-bottom:1px solid var(--wxsim-line);padding:3px 0;word-break:break-all}
.wxsim-log .wxsim-bad{color:var(--wxsim-red)}
.wxsim-log .wxsim-good{color:var(--wxsim-green)}
`;

  const adoptStyles = (doc) => {
    const win = doc.defaultView;
    if (doc.__wxsimStyled || !win) return;
    doc.__wxsimStyled = true;
    const sheet = new win.CSSStyleSheet();
    sheet.replaceSync(CSS);
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  };

  // ---- WeChat's native UI, drawn in `doc` inside `layer` --------------------

  const makeUI = (doc, layer) => {
    const el = (tag, cls, text) => {
      const node = doc.createElement(tag);
      if (cls) node.className = cls;
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const button = (cls, text, onClick) => {
      const b = el('button', cls, text);
      b.type = 'button';
      b.addEventListener('click', onClick);
      return b;
    };
    /** A modal that resolves once; `build(done)` returns its content. */
    const modal = (bottom, build) => new Promise((resolve) => {
      const mask = el('div', 'wxsim-mask' + (bottom ? ' wxsim-bottom' : ''));
      let settled = false;
      const done = (value) => {
        if (settled) return;
        settled = true;
        mask.remove();
        resolve(value);
      };
      const content = build(done);
      content.addEventListener('click', (e) => e.stopPropagation());
      mask.addEventListener('click', () => done(bottom ? -1 : undefined));
      mask.append(content);
      layer.append(mask);
    });
    const ui = {
      doc,
      el,
      button,
      modal,
      /** An action sheet: index of the item chosen, -1 for 取消. Items may
       *  be file pickers ({label, file: {id, accept, multiple, capture}}):
       *  then the picked files come back instead. */
      sheet: ({ title, items }) => modal(true, (done) => {
        const sheet = el('div', 'wxsim-sheet');
        if (title) sheet.append(el('div', 'wxsim-sheet-title', title));
        items.forEach((item, i) => {
          if (item.file) {
            const label = el('label', 'wxsim-sheet-item', item.label);
            const input = el('input');
            input.type = 'file';
            input.id = item.file.id;
            input.hidden = true;
            if (item.file.accept) input.accept = item.file.accept;
            if (item.file.multiple) input.multiple = true;
            if (item.file.capture) input.setAttribute('capture', item.file.capture);
            input.addEventListener('change', () => done({ files: Array.from(input.files || []) }));
            input.addEventListener('cancel', () => done(-1));
            label.append(input);
            sheet.append(label);
          } else {
            sheet.append(button('wxsim-sheet-item' + (item.warn ? ' wxsim-warn' : ''), item.label, () => done(i)));
          }
        });
        sheet.append(button('wxsim-sheet-item wxsim-sheet-cancel', '取消', () => done(-1)));
        return sheet;
      }),
      /** A dialog: the index of the button pressed (-1 for a tap outside). */
      dialog: ({ title, text, body, buttons, center }) => modal(false, (done) => {
        const box = el('div', 'wxsim-dialog');
        if (title) box.append(el('div', 'wxsim-dialog-title', title));
        const content = el('div', 'wxsim-dialog-body' + (center ? ' wxsim-center' : ''));
        if (text) content.append(text);
        if (body) content.append(body);
        if (text || body) box.append(content);
        const row = el('div', 'wxsim-dialog-buttons');
        (buttons || [{ label: '知道了', primary: true }]).forEach((b, i) => {
          const node = button('wxsim-dialog-button' + (b.primary ? ' wxsim-primary' : ''), b.label, () => done(i));
          if (b.id) node.dataset.wxsim = b.id;
          row.append(node);
        });
        box.append(row);
        return box;
      }).then((i) => (i === undefined ? -1 : i)),
      /** A dialog with a text field: the text, or null for 取消. */
      prompt: async ({ title, text, value }) => {
        const input = el('input', 'wxsim-input');
        input.value = value || '';
        input.id = 'wxsim-prompt';
        const body = el('div');
        if (text) body.append(el('div', '', text));
        body.append(input);
        setTimeout(() => input.focus(), 0);
        const i = await ui.dialog({ title, body, buttons: [{ label: '取消', id: 'cancel' }, { label: '确定', primary: true, id: 'ok' }] });
        return i === 1 ? input.value : null;
      },
      toast: (text, ms) => {
        const toast = el('div', 'wxsim-toast', text);
        layer.append(toast);
        const close = () => toast.remove();
        if (ms !== 0) setTimeout(close, ms || 1500);
        return close;
      },
      /** The full-screen image viewer. */
      preview: (src, caption) => new Promise((resolve) => {
        const viewer = el('div', 'wxsim-viewer');
        const img = el('img');
        img.src = src;
        img.alt = '';
        viewer.append(img, el('span', '', caption || '点击关闭'));
        viewer.addEventListener('click', () => {
          viewer.remove();
          resolve();
        });
        layer.append(viewer);
      }),
      /** The WeChat Pay sheet: 'pay', 'fail' or 'cancel'. */
      cashier: ({ amount, description, note }) => modal(true, (done) => {
        const pay = el('div', 'wxsim-pay');
        const top = el('div', 'wxsim-pay-top');
        top.append(button('wxsim-pay-close', '✕', () => done('cancel')), el('span', '', '微信支付（模拟）'), el('span', 'wxsim-badge', '模拟微信'));
        pay.append(top, el('div', 'wxsim-pay-desc', description || '订单'));
        const sum = el('div', 'wxsim-pay-amount');
        sum.append(el('small', '', '¥'), doc.createTextNode(amount));
        pay.append(sum);
        const method = el('div', 'wxsim-pay-method');
        method.append(el('span', '', '付款方式'), el('span', '', '零钱（模拟，不扣款）'));
        pay.append(method);
        if (note) pay.append(el('div', 'wxsim-dialog-body wxsim-center', note));
        const payButton = button('wxsim-button', '支付', () => done('pay'));
        payButton.dataset.wxsim = 'pay';
        const failButton = button('wxsim-button wxsim-plain', '模拟支付失败', () => done('fail'));
        failButton.dataset.wxsim = 'fail';
        pay.append(payButton, failButton);
        return pay;
      }).then((v) => (v === -1 ? 'cancel' : v)),
      /** A card as a chat or Moments shows it. */
      card: (data, timeline) => {
        const card = el('div', 'wxsim-card' + (timeline ? ' wxsim-timeline' : ''));
        const img = el('img');
        img.alt = '';
        if (data.imgUrl) img.src = data.imgUrl;
        img.addEventListener('error', () => { img.style.visibility = 'hidden'; });
        const text = el('div');
        text.append(el('div', 'wxsim-card-title', data.title || ''));
        if (!timeline) text.append(el('div', 'wxsim-card-desc', data.desc || ''));
        card.append(text, img);
        if (timeline) card.prepend(img);
        return card;
      },
    };
    return ui;
  };

  // ---- the ··· menu, the settings, shared by both hosts --------------------

  /** What the ··· menu offers; `page` is the bridge of the page shown (or
   *  null on a page without it, such as the simulator's consent page). */
  const openMenu = async (ui, page, actions) => {
    const hidden = page ? page.menuState() : { hidden: [], nonBase: false };
    const shown = (name, base) => !hidden.hidden.includes(name) && (base || !hidden.nonBase);
    const items = [];
    if (page) {
      if (shown('menuItem:share:appMessage')) items.push(['appmessage', '发送给朋友', '➦', 0]);
      if (shown('menuItem:share:timeline')) items.push(['timeline', '分享到朋友圈', '◎', 0]);
      if (shown('menuItem:favorite')) items.push(['favorite', '收藏', '☆', 0]);
      if (shown('menuItem:openWithSafari')) items.push(['browser', '在浏览器打开', '⌘', 0]);
    }
    if (shown('menuItem:copyUrl', true)) items.push(['copy', '复制链接', '⧉', 1]);
    items.push(['refresh', '刷新', '↻', 1]);
    items.push(['settings', '模拟设置', '⚙', 1]);
    items.push(['log', '调用记录', '☰', 1]);
    items.push(['off', '关闭模拟', '⏻', 1]);
    const choice = await ui.modal(true, (done) => {
      const sheet = ui.el('div', 'wxsim-sheet wxsim-menu');
      const rows = [ui.el('div', 'wxsim-menu-row'), ui.el('div', 'wxsim-menu-row')];
      for (const [id, label, icon, row] of items) {
        const item = ui.button('wxsim-menu-item', '', () => done(id));
        item.dataset.wxsimMenu = id;
        item.append(ui.el('span', 'wxsim-menu-icon', icon), ui.el('span', '', label));
        rows[row].append(item);
      }
      for (const row of rows) if (row.childElementCount) sheet.append(row);
      sheet.append(ui.button('wxsim-sheet-item wxsim-sheet-cancel', '取消', () => done(null)));
      return sheet;
    });
    switch (choice) {
      case 'appmessage':
      case 'timeline':
        return page.shareFromMenu(choice);
      case 'favorite':
        return ui.toast('已收藏（模拟）');
      case 'browser':
        return ui.dialog({ title: '在浏览器打开', text: '模拟器就在浏览器里：这一项在手机上会用系统浏览器打开当前链接。\n' + actions.href(), center: false });
      case 'copy': {
        const link = actions.href();
        try {
          await navigator.clipboard.writeText(link);
          ui.toast('已复制');
        } catch (e) {
          ui.dialog({ title: '复制链接', text: link });
        }
        return undefined;
      }
      case 'refresh':
        return actions.reload();
      case 'settings':
        return openSettings(ui, actions);
      case 'log':
        return actions.showLog();
      case 'off':
        return actions.turnOff();
      default:
        return undefined;
    }
  };

  const openSettings = async (ui, actions) => {
    const current = readSettings();
    const body = ui.el('div');
    const row = (label, control) => {
      const line = ui.el('label', 'wxsim-row');
      line.append(ui.el('span', '', label), control);
      body.append(line);
      return control;
    };
    const select = (name, options, value) => {
      const s = ui.el('select');
      s.name = name;
      for (const [v, text] of options) {
        const o = ui.el('option', '', text);
        o.value = v;
        s.append(o);
      }
      s.value = value;
      return s;
    };
    const number = (name, value) => {
      const n = ui.el('input');
      n.name = name;
      n.type = 'number';
      n.step = 'any';
      n.value = String(value);
      return n;
    };
    const fields = {
      platform: row('手机系统', select('platform', [['ios', 'iOS'], ['android', 'Android']], platform)),
      verifyUrl: row('签名校验的 URL', select('verifyUrl', [['platform', '按系统（iOS 落地页，Android 当前页）'], ['landing', '总是落地页'], ['current', '总是当前页']], current.verifyUrl)),
      frame: row('手机外框', select('frame', [['auto', '宽屏时显示'], ['on', '总是显示'], ['off', '不显示']], current.frame)),
      network: row('网络', select('network', [['wifi', 'Wi-Fi'], ['5g', '5G'], ['4g', '4G'], ['3g', '3G'], ['2g', '2G'], ['none', '无网络']], current.network)),
      latitude: row('纬度', number('latitude', current.latitude)),
      longitude: row('经度', number('longitude', current.longitude)),
    };
    const i = await ui.dialog({ title: '模拟设置', body, buttons: [{ label: '取消' }, { label: '保存并刷新', primary: true, id: 'save' }] });
    if (i !== 1) return;
    const next = Object.assign({}, current);
    for (const [key, input] of Object.entries(fields)) {
      next[key] = input.type === 'number' ? Number(input.value) || 0 : input.value;
    }
    writeSettings(next);
    actions.reloadAll();
  };

  const turnOffUrl = (href) => {
    const u = new URL(href, location.href);
    return '/__sim/wx/off?next=' + encodeURIComponent(u.pathname + u.search + u.hash);
  };

  const logLine = (entry) => {
    const t = new Date(entry.at);
    const pad = (n) => String(n).padStart(2, '0');
    return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())} ${entry.text}`;
  };

  // ---- the phone frame (top window, wide screens) --------------------------

  const startShell = () => {
    // The page's own markup and scripts go no further here (it runs in the
    // frame): the rest of the document is parsed as the text of a hidden
    // <plaintext>. Not window.stop(), which leaves headless Chromium unable
    // to draw the window (screenshots time out).
    if (document.readyState === 'loading') document.write('<plaintext hidden>');
    const doc = document;
    const html = doc.documentElement;
    html.replaceChildren();
    const head = doc.createElement('head');
    const body = doc.createElement('body');
    html.append(head, body);
    const meta = doc.createElement('meta');
    meta.name = 'viewport';
    meta.content = 'width=device-width,initial-scale=1';
    head.append(meta);
    doc.title = '模拟微信';
    adoptStyles(doc);
    body.className = 'wxsim-vars wxsim-shell';
    const el = (tag, cls, text) => {
      const node = doc.createElement(tag);
      if (cls) node.className = cls;
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const phone = el('div', 'wxsim-phone' + (IOS ? '' : ' wxsim-android'));
    const status = el('div', 'wxsim-status');
    const clock = el('span', '', '9:41');
    status.append(clock, el('span', 'wxsim-badge', '模拟微信'), el('span', '', IOS ? '5G ▮' : '▾ ▮ 5G'));
    const nav = el('div', 'wxsim-nav');
    const close = el('button', '', '✕');
    close.title = '关闭网页';
    const title = el('div', 'wxsim-nav-title', '');
    const more = el('button', 'wxsim-more', '···');
    more.title = '更多';
    more.dataset.wxsim = 'menu';
    nav.append(close, title, more);
    const screen = el('div', 'wxsim-screen');
    const frame = el('iframe');
    frame.title = '公众号网页';
    frame.setAttribute('allow', 'microphone; clipboard-write; geolocation; autoplay');
    screen.append(frame);
    const layer = el('div', 'wxsim-layer');
    phone.append(status, nav, screen, layer);

    const side = el('div', 'wxsim-side');
    const h1 = el('h1', '', 'wxh5 ');
    h1.append(el('span', 'wxsim-badge', '模拟微信'));
    side.append(h1, el('p', '', '左边是这个网页在微信里的样子：微信的用户代理、WeixinJSBridge、wx.config 签名校验、开放标签、支付收银台都由 wxh5 的模拟器回答，不连接真实微信。右上角 ··· 是微信的菜单。'));
    const buttons = el('div', 'wxsim-side-buttons');
    side.append(buttons);
    const logBox = el('div', 'wxsim-log');
    side.append(logBox);
    body.append(phone, side);

    const tick = () => {
      const now = new Date();
      clock.textContent = now.getHours() + ':' + String(now.getMinutes()).padStart(2, '0');
    };
    tick();
    setInterval(tick, 30000);

    const ui = makeUI(doc, layer);
    const entries = [];
    const log = (entry) => {
      entries.push(entry);
      if (entries.length > MAX_LOG) entries.shift();
      const line = el('div', entry.bad ? 'wxsim-bad' : entry.good ? 'wxsim-good' : '', logLine(entry));
      logBox.append(line);
      while (logBox.childElementCount > MAX_LOG) logBox.firstChild.remove();
      logBox.scrollTop = logBox.scrollHeight;
    };
    let page = null;
    let closedView = null;
    const href = () => {
      try {
        return frame.contentWindow.location.href;
      } catch (e) {
        return location.href;
      }
    };
    const syncAddress = (url) => {
      try {
        const u = new URL(url);
        if (u.origin === location.origin && u.href !== location.href) history.replaceState(null, '', u.href);
      } catch (e) {
        /* another origin: the address bar keeps what it has */
      }
    };
    const actions = {
      href,
      reload: () => {
        try {
          frame.contentWindow.location.reload();
        } catch (e) {
          frame.src = href();
        }
      },
      reloadAll: () => location.reload(),
      turnOff: () => { location.href = turnOffUrl(href()); },
      showLog: () => ui.dialog({ title: '调用记录', text: entries.slice(-30).map(logLine).join('\n') || '还没有调用' }),
    };
    const reopen = () => {
      if (closedView) closedView.remove();
      closedView = null;
      frame.hidden = false;
      frame.src = location.href;
    };
    close.addEventListener('click', () => host.close());
    more.addEventListener('click', () => openMenu(ui, page, actions));
    const sideButton = (label, onClick) => {
      const b = el('button', '', label);
      b.type = 'button';
      b.addEventListener('click', onClick);
      buttons.append(b);
    };
    sideButton('模拟设置', () => openSettings(ui, actions));
    sideButton('刷新网页', actions.reload);
    sideButton('不要外框', () => {
      writeSettings(Object.assign(readSettings(), { frame: 'off' }));
      location.reload();
    });
    sideButton('关闭模拟（普通浏览器）', actions.turnOff);
    sideButton('推送记录', async () => {
      try {
        const answer = await (await fetch('/__sim/wx/pushes')).json();
        const lines = (answer.pushes || []).map((p) => `${p.event} ${p.openid}\n${p.choices.map((c) => c.template_id + ' ' + c.status).join('，')}\n${p.note}`);
        ui.dialog({ title: '推送记录', text: lines.join('\n\n') || '还没有推送' });
      } catch (e) {
        ui.dialog({ title: '推送记录', text: '读不到：' + e.message });
      }
    });

    const host = {
      ui,
      framed: true,
      platform,
      log,
      setTitle: (text) => { title.textContent = text || ''; },
      navigated: syncAddress,
      menuChanged: (state) => { more.hidden = state.optionHidden; },
      close: () => {
        frame.hidden = true;
        frame.src = 'about:blank';
        page = null;
        title.textContent = '';
        closedView = el('div', 'wxsim-closed');
        const again = el('button', 'wxsim-button', '重新打开');
        again.type = 'button';
        again.addEventListener('click', reopen);
        closedView.append(el('div', '', '网页已关闭（模拟 closeWindow）'), again);
        screen.append(closedView);
        log({ at: Date.now(), text: 'closeWindow：网页已关闭' });
      },
      reload: actions.reload,
    };
    window.__wxsim = { shell: true, log: entries };
    window.__wxsimShell = {
      /** A page in the frame started its bridge: its host is this shell. */
      attach: (pageApi) => {
        page = pageApi;
        more.hidden = false;
        return host;
      },
    };
    frame.addEventListener('load', () => {
      let doc2 = null;
      try {
        doc2 = frame.contentDocument;
      } catch (e) {
        doc2 = null;
      }
      const bridged = !!(frame.contentWindow && (() => {
        try {
          return frame.contentWindow.__wxsim && !frame.contentWindow.__wxsim.shell;
        } catch (e) {
          return false;
        }
      })());
      if (!bridged) {
        page = null;
        more.hidden = false;
      }
      if (doc2) title.textContent = doc2.title || '';
      if (bridged) syncAddress(href());
    });
    frame.src = location.href;
  };

  // ---- the host of a page without the frame: UI over the page itself -------

  const makeLocalHost = () => {
    let ui = null;
    let pill = null;
    let root = null;
    const entries = [];
    const mount = () => {
      if (root) return;
      adoptStyles(document);
      root = document.createElement('wxsim-ui');
      root.className = 'wxsim-vars';
      const layer = document.createElement('div');
      layer.className = 'wxsim-layer';
      pill = document.createElement('button');
      pill.type = 'button';
      pill.className = 'wxsim-pill';
      pill.title = '模拟微信：微信的菜单';
      pill.append('模拟微信');
      const dots = document.createElement('b');
      dots.textContent = '···';
      pill.append(dots);
      layer.append(pill);
      root.append(layer);
      document.documentElement.append(root);
      ui = makeUI(document, layer);
      pill.addEventListener('click', () => {
        if (!host.menuHidden) openMenu(ui, host.page, actions);
      });
    };
    const actions = {
      href: () => location.href,
      reload: () => location.reload(),
      reloadAll: () => location.reload(),
      turnOff: () => { location.href = turnOffUrl(location.href); },
      showLog: () => host.ui.dialog({ title: '调用记录', text: entries.slice(-30).map(logLine).join('\n') || '还没有调用' }),
    };
    const host = {
      get ui() {
        mount();
        return ui;
      },
      framed: false,
      platform,
      page: null,
      menuHidden: false,
      log: (entry) => {
        entries.push(entry);
        if (entries.length > MAX_LOG) entries.shift();
      },
      setTitle: () => {},
      navigated: () => {},
      menuChanged: (state) => {
        host.menuHidden = state.optionHidden;
        if (pill) pill.lastChild.hidden = state.optionHidden;
      },
      close: () => {
        mount();
        const closed = document.createElement('div');
        closed.className = 'wxsim-closed';
        const again = document.createElement('button');
        again.type = 'button';
        again.className = 'wxsim-button';
        again.textContent = '重新打开';
        again.addEventListener('click', () => location.reload());
        const text = document.createElement('div');
        text.textContent = '网页已关闭（模拟 closeWindow）';
        closed.append(text, again);
        pill.parentNode.append(closed);
      },
      reload: () => location.reload(),
      mount,
    };
    return host;
  };

  // ---- the bridge, in the page's document ----------------------------------

  const installBridge = (hostFor) => {
    const LANDING_URL = location.href;
    const UA = USER_AGENTS[platform];
    try {
      Object.defineProperty(Navigator.prototype, 'userAgent', { configurable: true, get: () => UA });
    } catch (e) {
      /* an old browser: the page sees the real user agent */
    }
    const log = { calls: [], verified: [], args: {}, answers: {}, events: [] };
    const state = {
      configured: false,
      permitted: null,
      signature: null,
      openTags: [],
      menu: { hidden: [], nonBase: false, optionHidden: false },
      share: { appmessage: null, timeline: null },
      listeners: {},
      resources: new Map(),
      recording: null,
      playing: new Map(),
    };
    const note = (text, kind) => {
      const entry = { at: Date.now(), text, bad: kind === 'bad', good: kind === 'good' };
      log.events.push(entry);
      if (log.events.length > MAX_LOG) log.events.shift();
      host.log(entry);
    };
    const signable = (url) => {
      const i = url.indexOf('#');
      return i < 0 ? url : url.slice(0, i);
    };
    const checkedUrl = () => {
      const rule = settings.verifyUrl === 'landing' || settings.verifyUrl === 'current'
        ? settings.verifyUrl
        : (IOS ? 'landing' : 'current');
      return signable(rule === 'landing' ? LANDING_URL : location.href);
    };
    const api = {
      menuState: () => ({ hidden: state.menu.hidden.slice(), nonBase: state.menu.nonBase }),
      shareFromMenu: (kind) => shareFromMenu(kind),
    };
    const host = hostFor(api);
    if (!host.framed) host.page = api;
    const ui = () => host.ui;

    // Names: jweixin's (what jsApiList says) for the bridge's.
    const JS_NAMES = {
      preVerifyJSAPI: 'config', imagePreview: 'previewImage', geoLocation: 'getLocation',
      openProductViewWithPid: 'openProductSpecificView', batchAddCard: 'addCard', batchViewCard: 'openCard',
      getBrandWCPayRequest: 'chooseWXPay', startMonitoringBeacons: 'startSearchBeacons',
      stopMonitoringBeacons: 'stopSearchBeacons', onBeaconsInRange: 'onSearchBeacons', editAddress: 'openAddress',
    };
    const jsName = (name) => JS_NAMES[name] || name;
    const ok = (name, extra) => Object.assign({ errMsg: jsName(name) + ':ok' }, extra || {});
    const cancel = (name) => ({ errMsg: jsName(name) + ':cancel' });
    const fail = (name, reason) => ({ errMsg: jsName(name) + ':fail' + (reason ? ' ' + reason : '') });
    /** Calls that need no wx.config (jweixin's own bookkeeping, and what
     *  pages call on WeixinJSBridge directly without jweixin). */
    const ALWAYS = new Set(['preVerifyJSAPI', 'checkJsApi']);
    const DIRECT = new Set(['getBrandWCPayRequest', 'closeWindow', 'hideOptionMenu', 'showOptionMenu', 'getNetworkType', 'imagePreview']);

    // -- resources: what chooseImage / stopRecord / download* hand out --
    let counter = 0;
    const newLocalId = () => {
      counter += 1;
      const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
      return IOS ? 'wxLocalResource://' + hex.slice(0, 16) + counter : 'weixin://resourceid/' + hex;
    };
    const keep = (blob, kind) => {
      const localId = newLocalId();
      state.resources.set(localId.toLowerCase(), { blob, kind, url: URL.createObjectURL(blob) });
      while (state.resources.size > MAX_RESOURCES) {
        const [oldest, res] = state.resources.entries().next().value;
        URL.revokeObjectURL(res.url);
        state.resources.delete(oldest);
      }
      return localId;
    };
    const resource = (localId) => state.resources.get(String(localId || '').toLowerCase());
    // Android's web view loads weixin://resourceid/… itself, in `src` and
    // in CSS; a desktop browser cannot, so the bridge swaps in the file.
    // iOS's cannot either (WKWebView): pages need getLocalImgData there,
    // which jweixin does on its own for <img> (not for CSS backgrounds).
    if (!IOS) {
      const LOCAL_ID = /weixin:\/\/resourceid\/[0-9a-f]+/i;
      const LOCAL_IDS = /weixin:\/\/resourceid\/[0-9a-f]+/gi;
      const swap = (node) => {
        if (!node || node.nodeType !== 1) return;
        const src = node.getAttribute('src');
        const res = src && LOCAL_ID.test(src) && resource(src);
        if (res) node.setAttribute('src', res.url);
        const style = node.getAttribute('style');
        if (style && LOCAL_ID.test(style)) {
          node.setAttribute('style', style.replace(LOCAL_IDS, (id) => (resource(id) || { url: id }).url));
        }
      };
      new MutationObserver((records) => {
        for (const record of records) {
          if (record.type === 'attributes') {
            swap(record.target);
            continue;
          }
          for (const node of record.addedNodes) {
            swap(node);
            if (node.querySelectorAll) node.querySelectorAll('[src],[style]').forEach(swap);
          }
        }
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['src', 'style'] });
    }
    const base64 = (blob) => new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
    const upload = async (name, localId, kind, tips) => {
      const res = resource(localId);
      if (!res || res.kind !== kind) return fail(name, 'invalid localId');
      const hide = tips ? ui().toast('正在上传…', 0) : () => {};
      try {
        const response = await fetch('/__sim/wx/media?type=' + kind, {
          method: 'POST',
          headers: { 'content-type': res.blob.type || 'application/octet-stream' },
          body: res.blob,
        });
        const answer = await response.json();
        if (!response.ok || !answer.media_id) return fail(name, (answer.error && answer.error.message) || 'upload failed');
        note(`${jsName(name)} → serverId ${answer.media_id}（模拟器临时素材，3 天）`, 'good');
        return ok(name, { serverId: answer.media_id });
      } catch (e) {
        return fail(name, e.message);
      } finally {
        hide();
      }
    };
    const download = async (name, serverId, kind, tips) => {
      const hide = tips ? ui().toast('正在下载…', 0) : () => {};
      try {
        const response = await fetch('/__sim/wx/media/' + encodeURIComponent(serverId || ''));
        if (!response.ok) return fail(name, 'invalid serverId');
        return ok(name, { localId: keep(await response.blob(), kind) });
      } catch (e) {
        return fail(name, e.message);
      } finally {
        hide();
      }
    };

    // -- voice: the microphone when allowed, a sample clip otherwise --
    const sampleClip = (ms) => {
      const rate = 8000;
      const samples = Math.max(1, Math.round((Math.min(Math.max(ms, 500), MAX_RECORD_MS) / 1000) * rate));
      const buffer = new ArrayBuffer(44 + samples * 2);
      const view = new DataView(buffer);
      const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
      text(0, 'RIFF'); view.setUint32(4, 36 + samples * 2, true); text(8, 'WAVE'); text(12, 'fmt ');
      view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
      view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
      view.setUint16(34, 16, true); text(36, 'data'); view.setUint32(40, samples * 2, true);
      for (let i = 0; i < samples; i++) {
        const t = i / rate;
        const envelope = Math.min(1, t * 20, (samples - i) / rate * 20);
        const tone = Math.sin(2 * Math.PI * (440 + 220 * Math.sin(2 * Math.PI * 0.5 * t)) * t);
        view.setInt16(44 + i * 2, tone * envelope * 8000, true);
      }
      return new Blob([buffer], { type: 'audio/wav' });
    };
    const microphone = async () => {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof MediaRecorder === 'undefined') return null;
      const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 4000));
      try {
        return await Promise.race([navigator.mediaDevices.getUserMedia({ audio: true }), timeout]);
      } catch (e) {
        return null;
      }
    };
    const finishRecording = () => new Promise((resolve) => {
      const rec = state.recording;
      state.recording = null;
      clearTimeout(rec.timer);
      rec.hide();
      if (!rec.recorder) {
        resolve(keep(sampleClip(Date.now() - rec.started), 'voice'));
        return;
      }
      rec.recorder.addEventListener('stop', () => {
        rec.stream.getTracks().forEach((t) => t.stop());
        const blob = new Blob(rec.chunks, { type: rec.recorder.mimeType || 'audio/webm' });
        resolve(keep(blob.size ? blob : sampleClip(Date.now() - rec.started), 'voice'));
      }, { once: true });
      rec.recorder.stop();
    });
    const fire = (event, payload) => {
      const listener = state.listeners[event];
      if (listener) setTimeout(() => listener(payload), 0);
    };

    // -- open tags --
    const subscribeDetails = (choices) => {
      const details = {};
      for (const c of choices) details[c.templateId] = JSON.stringify({ status: c.status });
      return JSON.stringify(details);
    };
    const TAG_ACTIONS = {
      'wx-open-launch-weapp': async (tag) => {
        const i = await ui().dialog({ title: '打开小程序（模拟）', text: `${tag.getAttribute('username') || ''}\n${tag.getAttribute('path') || ''}`, buttons: [{ label: '取消' }, { label: '打开', primary: true }] });
        if (i === 1) emit(tag, 'launch', {});
      },
      'wx-open-launch-app': async (tag) => {
        const i = await ui().dialog({ title: '即将离开微信，打开 App（模拟）', text: `appid：${tag.getAttribute('appid') || ''}\nextinfo：${tag.getAttribute('extinfo') || ''}`, buttons: [{ label: '未安装' }, { label: '取消' }, { label: '允许', primary: true }] });
        if (i === 2) emit(tag, 'launch', {});
        if (i === 0) emit(tag, 'error', { errMsg: 'launch:fail' });
      },
      'wx-open-subscribe': async (tag) => {
        const templates = String(tag.getAttribute('template') || '').split(',').map((t) => t.trim()).filter(Boolean);
        if (!templates.length) {
          emit(tag, 'error', { errCode: 40001, errMsg: 'subscribe:fail template is empty' });
          return;
        }
        const body = ui().doc.createElement('div');
        const boxes = templates.map((id) => {
          const line = ui().el('label', 'wxsim-switch');
          const box = ui().el('input');
          box.type = 'checkbox';
          box.checked = true;
          box.dataset.template = id;
          line.append(ui().el('span', '', '订阅通知 ' + id), box);
          body.append(line);
          return box;
        });
        const i = await ui().dialog({ title: `「${document.title || '公众号'}」申请发送以下订阅通知（模拟）`, body, buttons: [{ label: '取消', id: 'reject' }, { label: '允许', primary: true, id: 'accept' }] });
        const choices = boxes.map((box) => ({ templateId: box.dataset.template, status: i === 1 && box.checked ? 'accept' : 'reject' }));
        emit(tag, 'success', { errMsg: 'subscribe:ok', subscribeDetails: subscribeDetails(choices) });
        try {
          const response = await fetch('/__sim/wx/subscribe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ choices }) });
          const answer = await response.json();
          const text = answer.note || (answer.error && answer.error.message) || '';
          note(`subscribe_msg_popup_event：${choices.map((c) => c.templateId + ' ' + c.status).join('，')}；${text}`, answer.pushed ? 'good' : 'bad');
          ui().toast(answer.pushed ? '已推送订阅事件' : text, answer.pushed ? 1500 : 4000);
        } catch (e) {
          note('subscribe_msg_popup_event 没有送出：' + e.message, 'bad');
        }
      },
      'wx-open-audio': async (tag) => {
        let audio = tag.__wxsimAudio;
        if (!audio) {
          audio = new Audio(tag.getAttribute('src') || '');
          tag.__wxsimAudio = audio;
          audio.addEventListener('playing', () => emit(tag, 'playing', {}));
          audio.addEventListener('pause', () => { if (!audio.ended) emit(tag, 'pause', {}); });
          audio.addEventListener('ended', () => emit(tag, 'ended', {}));
          audio.addEventListener('error', () => emit(tag, 'error', { errMsg: 'audio:fail ' + (audio.error ? audio.error.message || audio.error.code : '') }));
        }
        if (audio.paused) audio.play().catch(() => {});
        else audio.pause();
      },
    };
    const emit = (tag, name, detail) => {
      note(`<${tag.localName}> ${name} ${JSON.stringify(detail)}`);
      tag.dispatchEvent(new CustomEvent(name, { detail }));
    };
    const renderTag = (tag) => {
      const root = tag.shadowRoot || tag.attachShadow({ mode: 'open' });
      const template = tag.querySelector('script[type="text/wxtag-template"], template');
      root.replaceChildren();
      if (!template) return;
      if (template.localName === 'template') {
        root.append(template.content.cloneNode(true));
      } else {
        const holder = document.createElement('div');
        holder.innerHTML = template.textContent;
        root.append(...holder.childNodes);
      }
    };
    const defineOpenTags = (names) => {
      for (const name of names) {
        if (!TAG_ACTIONS[name] || customElements.get(name)) continue;
        customElements.define(name, class extends HTMLElement {
          connectedCallback() {
            renderTag(this);
            if (!this.__wxsimObserver) {
              this.__wxsimObserver = new MutationObserver(() => renderTag(this));
              this.__wxsimObserver.observe(this, { childList: true, subtree: true, characterData: true });
              this.shadowRoot.addEventListener('click', () => {
                if (state.openTags.includes(name)) TAG_ACTIONS[name](this);
              });
            }
            if (!this.__wxsimReady) {
              this.__wxsimReady = true;
              setTimeout(() => emit(this, 'ready', {}), 0);
            }
          }
        });
      }
    };

    // -- sharing --
    const defaultShare = () => ({ title: document.title, desc: location.href, link: location.href, imgUrl: '' });
    let pendingMenuShare = null;
    const showCard = async (kind, data, viaOldApi) => {
      const timeline = kind === 'timeline';
      const body = ui().doc.createElement('div');
      body.append(ui().card(data, timeline));
      const link = ui().el('div', 'wxsim-card-link', data.link || '');
      body.append(link);
      note(`${timeline ? '分享到朋友圈' : '发送给朋友'}：${JSON.stringify(data)}`);
      const i = await ui().dialog({
        title: timeline ? '分享到朋友圈（模拟）' : '发送给朋友（模拟）',
        body,
        buttons: [{ label: '取消', id: 'cancel' }, { label: timeline ? '发表' : '发送', primary: true, id: 'send' }],
      });
      if (i === 1) ui().toast(timeline ? '已发表' : '已发送');
      return viaOldApi ? (i === 1 ? 'ok' : 'cancel') : undefined;
    };
    const shareFromMenu = async (kind) => {
      const oldEvent = kind === 'timeline' ? 'menu:share:timeline' : 'menu:share:appmessage';
      if (state.listeners[oldEvent]) {
        // The old onMenuShare* API: WeChat fires the event, jweixin answers
        // with sendAppMessage / shareTimeline and the page's data.
        pendingMenuShare = kind;
        state.listeners[oldEvent]({});
        return;
      }
      const recorded = state.share[kind];
      await showCard(kind, recorded || defaultShare(), false);
    };

    // -- every call --
    const known = new Set();
    const apis = {
      async preVerifyJSAPI(args) {
        const url = checkedUrl();
        let errMsg;
        try {
          const response = await fetch('/__sim/wx/verify', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              appId: String(args.verifyAppId || args.appId || ''),
              timestamp: String(args.verifyTimestamp === undefined ? '' : args.verifyTimestamp),
              nonceStr: String(args.verifyNonceStr || ''),
              signature: String(args.verifySignature || ''),
              url,
            }),
          });
          const answer = await response.json();
          errMsg = answer.errMsg || 'config:fail ' + ((answer.error && answer.error.message) || response.status);
        } catch (e) {
          errMsg = 'config:fail 连不上模拟器（' + e.message + '）';
        }
        const good = errMsg === 'config:ok';
        state.configured = true;
        state.permitted = new Set(good ? (args.verifyJsApiList || []) : []);
        state.signature = good ? args.verifySignature : null;
        state.openTags = good ? (args.verifyOpenTagList || []).slice() : [];
        log.verified.push({ url, ok: good, errMsg, jsApiList: args.verifyJsApiList || [], openTagList: args.verifyOpenTagList || [] });
        note(`wx.config 校验 ${url}：${errMsg}`, good ? 'good' : 'bad');
        if (good) defineOpenTags(state.openTags);
        return { errMsg };
      },
      async checkJsApi(args) {
        const result = {};
        for (const name of args.jsApiList || []) result[name] = known.has(name);
        return ok('checkJsApi', { checkResult: IOS ? result : JSON.stringify(result) });
      },
      async updateAppMessageShareData(args) {
        state.share.appmessage = { title: args.title, desc: args.desc, link: args.link, imgUrl: args.imgUrl };
        note('发送给朋友的卡片：' + JSON.stringify(state.share.appmessage));
        return ok('updateAppMessageShareData');
      },
      async updateTimelineShareData(args) {
        state.share.timeline = { title: args.title, link: args.link, imgUrl: args.imgUrl };
        note('朋友圈的卡片：' + JSON.stringify(state.share.timeline));
        return ok('updateTimelineShareData');
      },
      async sendAppMessage(args) {
        const kind = pendingMenuShare || 'appmessage';
        pendingMenuShare = null;
        const result = await showCard(kind, { title: args.title, desc: args.desc, link: args.link, imgUrl: args.img_url }, true);
        return result === 'ok' ? ok('sendAppMessage') : cancel('sendAppMessage');
      },
      async shareTimeline(args) {
        pendingMenuShare = null;
        const result = await showCard('timeline', { title: args.title, link: args.link, imgUrl: args.img_url }, true);
        return result === 'ok' ? ok('shareTimeline') : cancel('shareTimeline');
      },
      async chooseImage(args) {
        const sources = args.sourceType || ['album', 'camera'];
        const items = [];
        if (sources.includes('camera')) items.push({ label: '拍摄（电脑上也从文件选择）', file: { id: 'wxsim-camera', accept: 'image/*', capture: 'environment' } });
        if (sources.includes('album') || !items.length) items.push({ label: '从手机相册选择', file: { id: 'wxsim-file', accept: 'image/*', multiple: Number(args.count || 9) > 1 } });
        const picked = await ui().sheet({ items });
        if (!picked || !picked.files || !picked.files.length) return cancel('chooseImage');
        const count = Math.min(Math.max(Number(args.count) || 9, 1), 9);
        const files = picked.files.filter((f) => /^image\//.test(f.type) && f.size <= MAX_IMAGE_BYTES).slice(0, count);
        if (!files.length) {
          ui().dialog({ title: '选择图片', text: '只能选择 10 MB 以内的图片' });
          return cancel('chooseImage');
        }
        const localIds = files.map((f) => keep(f, 'image'));
        note(`chooseImage → ${localIds.join(', ')}`);
        return ok('chooseImage', { localIds: IOS ? localIds : JSON.stringify(localIds), sourceType: 'album' });
      },
      async imagePreview(args) {
        const urls = args.urls || [];
        const current = args.current || urls[0];
        if (!current) return fail('imagePreview', 'no image');
        const res = resource(current);
        await ui().preview(res ? res.url : current, `${Math.max(urls.indexOf(current), 0) + 1} / ${Math.max(urls.length, 1)}`);
        return ok('imagePreview');
      },
      uploadImage: (args) => upload('uploadImage', args.localId, 'image', args.isShowProgressTips !== 0),
      downloadImage: (args) => download('downloadImage', args.serverId, 'image', args.isShowProgressTips !== 0),
      async getLocalImgData(args) {
        const res = resource(args.localId);
        if (!res || res.kind !== 'image') return fail('getLocalImgData', 'invalid localId');
        const data = await base64(res.blob);
        // iOS answers a data: URL; Android's answer is the bare base64.
        return ok('getLocalImgData', { localData: IOS ? `data:${res.blob.type || 'image/jpeg'};base64,${data}` : data });
      },
      async startRecord() {
        if (state.recording) return fail('startRecord', 'recording');
        const rec = { started: Date.now(), chunks: [], recorder: null, stream: null, hide: () => {} };
        state.recording = rec;
        const stream = await microphone();
        if (state.recording !== rec) return fail('startRecord', 'stopped');
        if (stream) {
          rec.stream = stream;
          rec.recorder = new MediaRecorder(stream);
          rec.recorder.addEventListener('dataavailable', (e) => { if (e.data && e.data.size) rec.chunks.push(e.data); });
          rec.recorder.start();
        }
        rec.started = Date.now();
        rec.hide = ui().toast(stream ? '录音中（麦克风）…' : '录音中（没有麦克风权限，用示例音频）…', 0);
        rec.timer = setTimeout(async () => {
          if (state.recording !== rec) return;
          const localId = await finishRecording();
          fire('onVoiceRecordEnd', { localId, errMsg: 'onVoiceRecordEnd:ok' });
        }, MAX_RECORD_MS);
        note(`startRecord：${stream ? '麦克风' : '示例音频'}`);
        return ok('startRecord');
      },
      async stopRecord() {
        if (!state.recording) return fail('stopRecord', 'not recording');
        const localId = await finishRecording();
        note('stopRecord → ' + localId);
        return ok('stopRecord', { localId });
      },
      async playVoice(args) {
        const res = resource(args.localId);
        if (!res || res.kind !== 'voice') return fail('playVoice', 'invalid localId');
        let audio = state.playing.get(args.localId);
        if (!audio) {
          audio = new Audio(res.url);
          state.playing.set(args.localId, audio);
          audio.addEventListener('ended', () => {
            state.playing.delete(args.localId);
            fire('onVoicePlayEnd', { localId: args.localId, errMsg: 'onVoicePlayEnd:ok' });
          });
        }
        try {
          await audio.play();
        } catch (e) {
          return fail('playVoice', e.message);
        }
        return ok('playVoice');
      },
      async pauseVoice(args) {
        const audio = state.playing.get(args.localId);
        if (audio) audio.pause();
        return ok('pauseVoice');
      },
      async stopVoice(args) {
        const audio = state.playing.get(args.localId);
        if (audio) {
          audio.pause();
          state.playing.delete(args.localId);
        }
        return ok('stopVoice');
      },
      uploadVoice: (args) => upload('uploadVoice', args.localId, 'voice', args.isShowProgressTips !== 0),
      downloadVoice: (args) => download('downloadVoice', args.serverId, 'voice', args.isShowProgressTips !== 0),
      async translateVoice(args) {
        if (!resource(args.localId)) return fail('translateVoice', 'invalid localId');
        return ok('translateVoice', { translateResult: '（模拟识别）你好，这是一段示例语音。' });
      },
      async getNetworkType() {
        const network = readSettings().network;
        if (network === 'none') return { err_msg: 'network_type:fail' };
        if (network === 'wifi') return { err_msg: 'network_type:wifi' };
        return { err_msg: 'network_type:wwan', subtype: network };
      },
      async geoLocation() {
        const s = readSettings();
        return { err_msg: 'geo_location:ok', latitude: Number(s.latitude), longitude: Number(s.longitude), speed: 0, accuracy: 30 };
      },
      async openLocation(args) {
        await ui().dialog({
          title: args.name || '位置（模拟地图）',
          text: `${args.address || ''}\n纬度 ${args.latitude}，经度 ${args.longitude}\n缩放 ${args.scale}${args.infoUrl ? '\n' + args.infoUrl : ''}`,
          buttons: [{ label: '返回', primary: true }],
        });
        return ok('openLocation');
      },
      async hideOptionMenu() {
        state.menu.optionHidden = true;
        host.menuChanged(state.menu);
        return ok('hideOptionMenu');
      },
      async showOptionMenu() {
        state.menu.optionHidden = false;
        host.menuChanged(state.menu);
        return ok('showOptionMenu');
      },
      async hideMenuItems(args) {
        for (const item of args.menuList || []) if (!state.menu.hidden.includes(item)) state.menu.hidden.push(item);
        return ok('hideMenuItems');
      },
      async showMenuItems(args) {
        const shown = new Set(args.menuList || []);
        state.menu.hidden = state.menu.hidden.filter((item) => !shown.has(item));
        return ok('showMenuItems');
      },
      async hideAllNonBaseMenuItem() {
        state.menu.nonBase = true;
        return ok('hideAllNonBaseMenuItem');
      },
      async showAllNonBaseMenuItem() {
        state.menu.nonBase = false;
        return ok('showAllNonBaseMenuItem');
      },
      async closeWindow() {
        host.close();
        return null; // WeChat closes the web view and never answers
      },
      async scanQRCode(args) {
        const text = await ui().prompt({ title: '扫一扫（模拟）', text: '输入扫到的内容（二维码的文字，或条码：类型,数字）', value: 'https://example.com/wxh5' });
        if (text === null) return cancel('scanQRCode');
        if (Number(args.needResult) !== 1) {
          ui().toast('微信会处理扫码结果：' + text, 2500);
          return ok('scanQRCode');
        }
        const barcode = /^[A-Z_0-9]+,/.test(text);
        const resultStr = IOS ? JSON.stringify({ scan_code: { scan_type: barcode ? 'barcode' : 'qrcode', scan_result: text } }) : text;
        return ok('scanQRCode', { resultStr });
      },
      async openProductViewWithPid(args) {
        await ui().dialog({ title: '商品详情（模拟）', text: `商品 ${args.pid || ''}` });
        return ok('openProductViewWithPid');
      },
      async batchAddCard(args) {
        const cards = args.card_list || [];
        const i = await ui().dialog({ title: '添加到卡包（模拟）', text: cards.map((c) => c.card_id).join('\n'), buttons: [{ label: '取消' }, { label: '添加', primary: true }] });
        if (i !== 1) return cancel('batchAddCard');
        return ok('batchAddCard', { card_list: JSON.stringify(cards.map((c) => ({ card_id: c.card_id, card_ext: c.card_ext, is_succ: 1 }))) });
      },
      async batchViewCard() {
        await ui().dialog({ title: '卡包（模拟）', text: '这里会显示用户卡包里的卡券' });
        return ok('batchViewCard');
      },
      async chooseCard(args) {
        const i = await ui().dialog({ title: '选择卡券（模拟）', text: `卡券 ${args.card_id || '（任意）'}`, buttons: [{ label: '取消' }, { label: '使用', primary: true }] });
        if (i !== 1) return cancel('chooseCard');
        return ok('chooseCard', { choose_card_info: [{ card_id: args.card_id || 'pSimCard0000000000000000001', encrypt_code: 'SIMENCRYPTCODE' }] });
      },
      async editAddress() {
        const i = await ui().dialog({
          title: '选择收货地址（模拟）',
          text: '张三 020-81167888\n广东省 广州市 海珠区 新港中路 397 号',
          buttons: [{ label: '取消' }, { label: '使用', primary: true }],
        });
        if (i !== 1) return cancel('editAddress');
        return ok('editAddress', {
          userName: '张三', addressPostalCode: '510000', proviceFirstStageName: '广东省', addressCitySecondStageName: '广州市',
          addressCountiesThirdStageName: '海珠区', addressDetailInfo: '新港中路 397 号', nationalCode: '440105', telNumber: '020-81167888',
        });
      },
      async getBrandWCPayRequest(args) {
        const params = { appId: args.appId, timeStamp: args.timeStamp, nonceStr: args.nonceStr, package: args.package, signType: args.signType, paySign: args.paySign };
        const prepayId = String(params.package || '').replace(/^prepay_id=/, '');
        let info = {};
        try {
          info = await (await fetch('/__sim/pay/cashier/prepay/' + encodeURIComponent(prepayId))).json();
        } catch (e) {
          info = { error: '模拟支付没有开启' };
        }
        const action = info.error
          ? 'fail'
          : await ui().cashier({ amount: (Number(info.total_fen || 0) / 100).toFixed(2), description: info.description });
        let answer;
        try {
          const response = await fetch('/__sim/pay/cashier/getBrandWCPayRequest', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ params, action }) });
          answer = await response.json();
        } catch (e) {
          answer = { err_msg: 'get_brand_wcpay_request:fail', reason: e.message };
        }
        note(`收银台：${action} → ${answer.err_msg}${answer.reason ? '（' + answer.reason + '）' : ''}`, /:ok$/.test(answer.err_msg || '') ? 'good' : 'bad');
        if (answer.reason && action !== 'cancel') await ui().dialog({ title: '支付失败', text: answer.reason || info.error });
        return { err_msg: answer.err_msg || 'get_brand_wcpay_request:fail' };
      },
      async startMonitoringBeacons() {
        return ok('startMonitoringBeacons');
      },
      async stopMonitoringBeacons() {
        return ok('stopMonitoringBeacons');
      },
    };
    for (const name of Object.keys(apis)) known.add(name);
    ['onVoiceRecordEnd', 'onVoicePlayEnd', 'onBeaconsInRange', 'menu:share:appmessage', 'menu:share:timeline'].forEach((n) => known.add(n));

    /** Calls wait for a verification under way (WeChat answers in order). */
    let gate = Promise.resolve();
    const permission = (name, args) => {
      if (ALWAYS.has(name)) return null;
      if (!('verifyAppId' in args)) return DIRECT.has(name) ? null : { err_msg: 'system:access_denied' };
      if (!state.configured) return { errMsg: jsName(name) + ':the permission value is offline verifying' };
      if (!state.permitted.has(name) || args.verifySignature !== state.signature) return { err_msg: 'system:access_denied' };
      return null;
    };
    const handle = async (name, args) => {
      log.calls.push(name);
      if (log.calls.length > MAX_LOG) log.calls.shift();
      log.args[name] = args;
      if (name === 'preVerifyJSAPI') {
        const run = gate.then(() => apis.preVerifyJSAPI(args));
        gate = run.catch(() => {});
        return run;
      }
      await gate;
      const denied = permission(name, args);
      if (denied) {
        note(`${jsName(name)}：permission denied（不在已校验的 jsApiList 里，或 wx.config 没有通过）`, 'bad');
        return denied;
      }
      const impl = apis[name];
      let answer;
      try {
        answer = impl ? await impl(args) : { err_msg: 'system:function_not_exist' };
      } catch (e) {
        answer = fail(name, e && e.message);
      }
      // A copy: jweixin rewrites the answer it gets (parses localIds…).
      log.answers[name] = answer && JSON.parse(JSON.stringify(answer));
      return answer;
    };
    const bridge = {
      invoke(name, args, callback) {
        handle(String(name), args && typeof args === 'object' ? args : {}).then((answer) => {
          if (answer && typeof callback === 'function') setTimeout(() => callback(answer), 0);
        });
      },
      on(name, callback) {
        state.listeners[String(name)] = callback;
      },
      call(name, args) {
        bridge.invoke(name, args || {}, null);
      },
      log() {},
    };
    window.WeixinJSBridge = bridge;
    window.__wxsim = { platform, log, landingUrl: LANDING_URL, settings };

    // Title and address for the frame; the ready event for pages that wait.
    const watchPage = () => {
      host.setTitle(document.title);
      new MutationObserver(() => host.setTitle(document.title)).observe(document.head || document.documentElement, { childList: true, subtree: true, characterData: true });
      for (const method of ['pushState', 'replaceState']) {
        const original = history[method];
        history[method] = function (...args) {
          const result = original.apply(this, args);
          host.navigated(location.href);
          return result;
        };
      }
      addEventListener('popstate', () => host.navigated(location.href));
      addEventListener('hashchange', () => host.navigated(location.href));
      host.navigated(location.href);
      if (!host.framed) host.mount();
      document.dispatchEvent(new Event('WeixinJSBridgeReady'));
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', watchPage, { once: true });
    else watchPage();
  };

  // ---- which role this document plays --------------------------------------

  let shell = null;
  if (window.top !== window) {
    try {
      shell = window.parent.__wxsimShell || null;
    } catch (e) {
      shell = null; // framed by another origin: a page of its own
    }
  }
  if (!shell && window.top === window && wantsFrame()) {
    startShell();
    return;
  }
  installBridge((api) => (shell ? shell.attach(api) : makeLocalHost()));
})();
