<?xml version="1.0" encoding="UTF-8"?><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:a="http://www.w3.org/2005/Atom" exclude-result-prefixes="a">
<xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat" indent="no"/>

<xsl:variable name="title" select="/a:feed/a:title | /rss/channel/title"/>
<xsl:variable name="self" select="/a:feed/a:link[@rel='self']/@href | /rss/channel/a:link[@rel='self']/@href"/>

<xsl:template match="/">
<html lang="vi">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>Nguồn tin: <xsl:value-of select="$title"/></title>
<style>
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #eef1f5; color: #1f2328; font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; font-size: 18px; line-height: 1.6; overflow-wrap: anywhere; }
.skip { position: absolute; left: -10000px; top: 0; }
.skip:focus { left: 8px; top: 8px; z-index: 10; background: #ffffff; padding: 8px 12px; }
.page { max-width: 640px; margin: 0 auto; background: #ffffff; }
header, main, footer { padding: 32px; }
header { padding-bottom: 0; display: flex; flex-wrap: wrap; gap: 8px 24px; justify-content: space-between; align-items: baseline; }
.site { margin: 0; font-size: 16px; font-weight: bold; letter-spacing: 0.02em; text-transform: uppercase; }
.site a { color: #0b57a4; }
.sizes { font-size: 16px; color: #4b5563; }
.sizes a[aria-current] { font-weight: bold; color: #1f2328; text-decoration: none; border-bottom: 3px solid #0b57a4; }
footer { border-top: 3px solid #c9d1db; font-size: 16px; color: #4b5563; }
footer p { margin: 0 0 8px 0; }
footer address { font-style: normal; margin: 0 0 8px 0; }
h1, h2 { line-height: 1.3; margin: 0 0 12px 0; }
h1 { font-size: 28px; margin-top: 12px; }
h2 { font-size: 22px; margin-top: 24px; }
p { margin: 0 0 12px 0; }
a { color: #0b57a4; text-decoration: underline; }
a:focus-visible, input:focus-visible, button:focus-visible, .skip:focus { outline: 3px solid #1f2328; outline-offset: 3px; }
fieldset { border: 0; padding: 0; margin: 0 0 24px 0; }
legend, label.field { display: block; font-weight: bold; margin: 0 0 6px 0; padding: 0; }
.hint { display: block; color: #4b5563; margin: 0 0 8px 0; font-size: 16px; }
.field-group { margin: 0 0 24px 0; }
input[type=email], input[type=text] { width: 100%; max-width: 32em; font: inherit; color: #1f2328; background: #ffffff; padding: 10px 12px; min-height: 48px; border: 2px solid #4b5563; border-radius: 4px; }
input[aria-invalid=true] { border-color: #b00020; }
.choice { display: flex; align-items: flex-start; gap: 12px; margin: 0 0 10px 0; }
.choice input { width: 22px; height: 22px; margin: 3px 0 0 0; flex: none; accent-color: #0b57a4; }
.columns { columns: 2 16em; column-gap: 24px; }
.columns .choice { break-inside: avoid; }
button { font: inherit; font-weight: bold; min-height: 48px; padding: 12px 20px; border: 2px solid #0b57a4; border-radius: 6px; background: #0b57a4; color: #ffffff; cursor: pointer; }
button.secondary { background: #ffffff; color: #0b57a4; }
.actions { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; margin: 24px 0 0 0; }
.error-summary { border: 4px solid #b00020; padding: 16px 20px; margin: 0 0 24px 0; }
.error-summary h2 { margin-top: 0; }
.error { display: block; color: #b00020; font-weight: bold; margin: 0 0 8px 0; }
.notice { border-left: 6px solid #0b57a4; background: #eef1f5; padding: 12px 16px; margin: 0 0 24px 0; }
.summary { margin: 0 0 24px 0; padding: 0; }
.summary dt { font-weight: bold; }
.summary dd { margin: 0 0 8px 0; }
.hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
@media (max-width: 600px) { header, main, footer { padding: 16px; } .actions button { width: 100%; } }
code { overflow-wrap: anywhere; background: #eef1f5; padding: 2px 6px; border-radius: 4px; }
ol.steps li, ul.entries li { margin: 0 0 12px 0; }
ul.entries { padding-left: 1.2em; }
.date { display: block; color: #4b5563; font-size: 16px; }
</style>
</head>
<body>
<a class="skip" href="#main">Bỏ qua, đến nội dung chính</a>
<div class="page">
<header>
<p class="site"><a href="https://sonoivu.backan.example/">Sở Nội vụ tỉnh Bắc Kạn</a></p>
</header>
<main id="main">
<h1><xsl:value-of select="$title"/></h1>
<p class="notice">Đây là một <strong>nguồn tin</strong> (RSS/Atom), dành cho ứng dụng đọc tin. Trang bạn đang xem là bản dễ đọc của nó.</p>
<h2>Nguồn tin là gì?</h2>
<p>Nguồn tin cho phép bạn nhận các bản tin mới của Sở Nội vụ tỉnh Bắc Kạn mà không cần vào trang web: ứng dụng đọc tin tự kiểm tra nguồn tin và báo cho bạn khi có bản tin mới.</p>
<h2>Cách theo dõi</h2>
<ol class="steps">
<li>Sao chép địa chỉ của trang này:<br/><code><xsl:value-of select="$self"/></code></li>
<li>Mở ứng dụng đọc tin (ví dụ Feedly, Inoreader, NetNewsWire, Thunderbird) và chọn “Thêm nguồn tin” hoặc “Đăng ký”.</li>
<li>Dán địa chỉ vừa sao chép. Từ đó, bản tin mới sẽ tự hiện trong ứng dụng.</li>
</ol>
<p>Muốn nhận bản tin qua thư điện tử? <a href="https://bantin.sonoivu.example/subscribe">Đăng ký nhận bản tin</a>.</p>
<h2>Các bản tin trong nguồn tin này</h2>
<ul class="entries">
<xsl:apply-templates select="/a:feed/a:entry | /rss/channel/item"/>
</ul>
</main>
<footer>
<p>Nguồn tin của Sở Nội vụ tỉnh Bắc Kạn. <a href="https://bantin.sonoivu.example/feeds/index.opml">Danh sách mọi nguồn tin (OPML)</a></p>
<address class="contact"><strong>Liên hệ Sở Nội vụ tỉnh Bắc Kạn</strong>
<br/>Địa chỉ: Số 1 đường Trường Chinh, phường Đức Xuân, thành phố Bắc Kạn<br/>Điện thoại: 0209 3870 000<br/>Thư điện tử: <a href="mailto:vanthu@sonoivu.backan.example">vanthu@sonoivu.backan.example</a><br/>Giờ làm việc: Thứ Hai đến thứ Sáu, sáng 7:30–11:30, chiều 13:30–17:00</address>
</footer>
</div>
</body>
</html>
</xsl:template>

<xsl:template match="a:entry">
<li><a href="{a:link[@rel='alternate' or not(@rel)]/@href}"><xsl:value-of select="a:title"/></a>
<span class="date">Đăng ngày <xsl:call-template name="ddmmyyyy"><xsl:with-param name="iso" select="a:published"/></xsl:call-template></span></li>
</xsl:template>

<xsl:template match="item">
<li><a href="{link}"><xsl:value-of select="title"/></a>
<span class="date">Đăng ngày <xsl:call-template name="rfc822"><xsl:with-param name="date" select="pubDate"/></xsl:call-template></span></li>
</xsl:template>

<xsl:template name="ddmmyyyy">
<xsl:param name="iso"/>
<xsl:value-of select="concat(substring($iso, 9, 2), '/', substring($iso, 6, 2), '/', substring($iso, 1, 4))"/>
</xsl:template>

<xsl:template name="rfc822">
<xsl:param name="date"/>
<xsl:variable name="month" select="substring($date, 9, 3)"/>
<xsl:variable name="number" select="string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', $month)) div 3 + 101"/>
<xsl:value-of select="concat(substring($date, 6, 2), '/', substring(string($number), 2), '/', substring($date, 13, 4))"/>
</xsl:template>

</xsl:stylesheet>
