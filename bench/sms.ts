// SMS text throughput: messages per second through chooseEncoding + splitMessage (encoding
// choice, encoding, cut points, UDH per part) for short and long GSM and UCS-2 texts, beside
// the npm `sms-segments-calculator` (Twilio's segment calculator) on the same texts. The
// calculator only counts segments, it builds no parts, so the comparison favours it.
import { createRequire } from 'node:module';
import { chooseEncoding, splitMessage } from '../src/sms/index.ts';
import { formatRate, opsPerSecond, printTable } from './report.ts';

const { SegmentedMessage } = createRequire(import.meta.url)('sms-segments-calculator') as {
  SegmentedMessage: new (text: string) => { segmentsCount: number };
};

const texts: Record<string, string> = {
  'short GSM (60 chars)': 'Your verification code is 482913. It expires in 10 minutes.',
  'long GSM (612 chars)': 'Dear customer, your parcel {ref: 55-120} is on its way. '.repeat(11).slice(0, 612),
  'short UCS-2 (40 chars)': 'Ваш код: 482913. Не сообщайте его 🙏',
  'long UCS-2 (268 code units)': 'Заказ №123 подтверждён ✅ Доставка: Пн–Пт, 9–18 ч. 👨‍👩‍👧 '
    .repeat(6)
    .slice(0, 268),
};

export async function benchSms(): Promise<void> {
  const ms = 300;
  const rows: string[][] = [];
  let sink = 0;
  for (const [name, text] of Object.entries(texts)) {
    const ours = opsPerSecond(() => {
      const choice = chooseEncoding(text);
      sink += splitMessage(choice.text, { encoding: choice.encoding, maxParts: 255 }).parts.length;
    }, ms);
    const theirs = opsPerSecond(() => {
      sink += new SegmentedMessage(text).segmentsCount;
    }, ms);
    const segments = splitMessage(text, { maxParts: 255 }).segments;
    rows.push([
      name,
      String(segments),
      formatRate(ours),
      formatRate(theirs),
      `${(ours / theirs).toFixed(1)}×`,
    ]);
  }
  printTable(
    'SMS text: chooseEncoding + splitMessage, messages/s (one core)',
    ['text', 'segments', 'smsgw', 'sms-segments-calculator', 'ratio'],
    rows,
  );
  if (sink === 0) process.stdout.write('(no work measured)\n');
}
