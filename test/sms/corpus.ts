// Texts for comparing encoding choice and segment counts with an independent implementation.
// Each covers a case: limits and one past them, extension characters on part boundaries,
// surrogate pairs and grapheme clusters on boundaries, scripts with combining marks.

const a = (n: number) => 'a'.repeat(n);

export const corpus: { name: string; text: string }[] = [
  { name: 'empty', text: '' },
  { name: 'short GSM', text: 'Hello world' },
  { name: 'OTP', text: 'Your verification code is 482913. It expires in 10 minutes.' },
  { name: 'GSM 160', text: a(160) },
  { name: 'GSM 161', text: a(161) },
  { name: 'GSM 306', text: a(306) },
  { name: 'GSM 307', text: a(307) },
  { name: 'GSM 459', text: a(459) },
  { name: 'GSM 460', text: a(460) },
  { name: 'GSM 1530', text: a(1530) },
  { name: 'euro straddling part 1 end', text: `${a(152)}€${a(10)}` },
  { name: 'euro ending part 1', text: `${a(151)}€${a(10)}` },
  { name: 'brace making 161', text: `${a(159)}{` },
  { name: 'bracket making 160', text: `${a(158)}[` },
  { name: 'extension run', text: '{}[]~\\|^€'.repeat(20) },
  { name: 'extension at second boundary', text: `${a(305)}|${a(5)}` },
  { name: 'all extension 80', text: '€'.repeat(80) },
  { name: 'all extension 81', text: '€'.repeat(81) },
  { name: 'Greek capitals', text: 'ΔΦΓΛΩΠΨΣΘΞ'.repeat(17) },
  {
    name: 'default table specials',
    text: '@£$¥èéùìòÇ\nØø\rÅå_ÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà'.repeat(4),
  },
  { name: 'CRLF lines', text: 'Line one\r\nLine two\r\nLine three\r\n'.repeat(6) },
  { name: 'form feed', text: `Page one\fPage two ${a(150)}` },
  { name: 'German', text: 'Grüße aus München! Die Straße ist schön. Öffnungszeiten: Mo–Fr' },
  {
    name: 'German GSM only',
    text: 'Grüße aus München! Die Straße ist schön. Öffnungszeiten: Mo-Fr'.repeat(3),
  },
  { name: 'Spanish', text: '¿Dónde está la estación? ¡Mañana a las 10!' },
  { name: 'Spanish GSM only', text: '¿Qué tal? ¡Mañana nos vemos en el año nuevo!'.repeat(4) },
  { name: 'French', text: 'Ça va? Le garçon a mangé une crêpe à Noël.' },
  { name: 'Portuguese', text: 'Olá! Não esqueça a reunião às 15h. Obrigação cumprida.' },
  { name: 'Turkish', text: 'Şişli’de buluşalım mı? Görüşürüz, iyi günler.' },
  { name: 'curly quote in long GSM', text: `${a(100)}’${a(100)}` },
  { name: 'Cyrillic', text: 'Привет, как дела? Встретимся завтра в 10 утра.' },
  { name: 'Cyrillic 70', text: 'Ж'.repeat(70) },
  { name: 'Cyrillic 71', text: 'Ж'.repeat(71) },
  { name: 'Cyrillic 134', text: 'Ж'.repeat(134) },
  { name: 'Cyrillic 135', text: 'Ж'.repeat(135) },
  { name: 'Chinese', text: '你好，世界！今天天气很好，我们一起去公园散步吧。' },
  { name: 'Chinese long', text: '中华人民共和国'.repeat(30) },
  { name: 'Japanese', text: 'こんにちは、世界！カタカナとひらがな。'.repeat(5) },
  { name: 'Japanese combining voiced marks', text: 'か\u3099き\u3099く\u3099'.repeat(30) },
  { name: 'Korean', text: '안녕하세요, 만나서 반갑습니다. 오늘 날씨가 좋네요.'.repeat(3) },
  { name: 'Korean jamo', text: '\u1100\u1161\u11a8'.repeat(40) },
  { name: 'Arabic', text: 'مرحبا بالعالم، كيف حالك اليوم؟'.repeat(3) },
  { name: 'Arabic with harakat', text: 'مَرْحَبًا بِكُمْ فِي بَيْتِنَا'.repeat(4) },
  { name: 'Hebrew with niqqud', text: 'שָׁלוֹם עֲלֵיכֶם'.repeat(8) },
  { name: 'Hindi', text: 'नमस्ते दुनिया, आप कैसे हैं? मैं ठीक हूँ।'.repeat(3) },
  { name: 'Tamil', text: 'வணக்கம் உலகம், நீங்கள் எப்படி இருக்கிறீர்கள்?'.repeat(2) },
  { name: 'Bengali', text: 'হ্যালো বিশ্ব, আপনি কেমন আছেন?'.repeat(3) },
  { name: 'Thai', text: 'สวัสดีครับ ยินดีที่ได้รู้จัก'.repeat(4) },
  { name: 'emoji 35', text: '😀'.repeat(35) },
  { name: 'emoji 36', text: '😀'.repeat(36) },
  { name: 'emoji straddling part end', text: `${'Ж'.repeat(66)}😀${'Ж'.repeat(10)}` },
  { name: 'emoji after GSM text', text: `Hello 😀 world, see you soon! ${a(40)}` },
  { name: 'ZWJ family run', text: '👨‍👩‍👧‍👦'.repeat(7) },
  { name: 'ZWJ family straddling', text: `${'Ж'.repeat(60)}👨‍👩‍👧‍👦${'Ж'.repeat(10)}` },
  { name: 'flags', text: '🇬🇧🇫🇷🇩🇪🇯🇵'.repeat(6) },
  { name: 'flag straddling', text: `${'Ж'.repeat(65)}🇬🇧${'Ж'.repeat(5)}` },
  { name: 'skin tones', text: '👍🏽👋🏿'.repeat(12) },
  { name: 'keycaps', text: '1️⃣2️⃣3️⃣'.repeat(10) },
  { name: 'decomposed accents', text: 'e\u0301'.repeat(80) },
  { name: 'decomposed straddling', text: `${'Ж'.repeat(66)}e\u0301${'Ж'.repeat(4)}` },
  { name: 'mixed scripts', text: 'Hello Привет 你好 مرحبا 😀 שלום नमस्ते' },
  { name: 'mixed long', text: 'Order #123 confirmed ✅ Delivery: Пн–Пт, 9–18 ч. Спасибо! 🙏'.repeat(3) },
  {
    name: 'simulator inbound text',
    text: `Olá! ${'This inbound message is long enough to need three parts. '.repeat(7)}`,
  },
  { name: 'check marks', text: 'Ünïcödé ✓ '.repeat(20) },
  { name: 'CJK boundary 67', text: '字'.repeat(67 * 2) },
  { name: 'CJK boundary 68', text: '字'.repeat(67 * 2 + 1) },
  { name: 'Nordic', text: 'Åse og Øystein spiste æbler på Ærø. Hälsningar från Göteborg!' },
  { name: 'Greek lower case', text: 'Καλημέρα κόσμε, τι κάνεις;' },
  { name: 'Polish', text: 'Zażółć gęślą jaźń. Dzień dobry!' },
  { name: 'Vietnamese', text: 'Xin chào thế giới! Tiếng Việt có nhiều dấu.'.repeat(2) },
];

/**
 * Texts where we deliberately count differently, with the reason. A grapheme cluster longer
 * than what is left of a part: the calculator moves it whole to the next part, where it still
 * cannot fit and overflows into a further one; we split it where the part ends, since no part
 * could keep it whole anyway, which saves a segment.
 */
export const intentionalDifferences: { name: string; text: string; ours: number; theirs: number }[] = [
  { name: 'cluster longer than a part', text: `abc Z${'\u0301\u0316'.repeat(40)} def`, ours: 2, theirs: 3 },
];
