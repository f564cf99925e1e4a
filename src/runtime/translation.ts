// A toy English -> Chinese translation data set for a small Transformer,
// generated from a bilingual lexicon and sentence templates (no files, no
// randomness: every call gives the same pairs, vocabularies and columns).
//
//   I am in CQ                          -> 我在重庆          (the chapter's example; CQ is Chongqing)
//   he works in Beijing                 -> 他在北京工作      (verb before place becomes place before verb)
//   they do not study at school         -> 他们不在学校学习
//   the teacher reads at home every day -> 老师每天在家看书  (the time moves to the front)
//   my friend lives in Shanghai         -> 我的朋友住在上海  (住 is the one verb that stays before 在)
//
// English is split into words (case kept, punctuation dropped), Chinese into
// characters. Some (verb, place) combinations are held out for testing with
// every subject and form; each of their words still occurs in training.
// Runtime-neutral: no Node APIs.

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;
const specials = ["<pad>", "<bos>", "<eos>", "<unk>"];

export interface Pair {
  en: string;
  zh: string;
}

/** id -> token (`tokens`) and token -> id (`ids`); ids 0..3 are PAD, BOS, EOS, UNK, the rest sorted. */
export interface Vocab {
  tokens: readonly string[];
  ids: ReadonlyMap<string, number>;
}

/** Rows of one split; every column is Int32Array [count * length], row-major. A `Dataset` for the runtime. */
export interface TranslationSet {
  count: number;
  columns: { src: Int32Array; tgt_in: Int32Array; tgt_out: Int32Array };
}

// --- The lexicon. `be` fixes agreement: "is" subjects take the verb's -s form and "does".

const subjects = [
  { en: "I", zh: "我", be: "am" },
  { en: "you", zh: "你", be: "are" },
  { en: "he", zh: "他", be: "is" },
  { en: "she", zh: "她", be: "is" },
  { en: "we", zh: "我们", be: "are" },
  { en: "they", zh: "他们", be: "are" },
  { en: "my friend", zh: "我的朋友", be: "is" },
  { en: "the teacher", zh: "老师", be: "is" },
];

const places = [
  { en: "in CQ", zh: "重庆" },
  { en: "in Beijing", zh: "北京" },
  { en: "in Shanghai", zh: "上海" },
  { en: "in Chengdu", zh: "成都" },
  { en: "at school", zh: "学校" },
  { en: "at home", zh: "家" },
  { en: "in the park", zh: "公园" },
  { en: "in the library", zh: "图书馆" },
];

// Chinese predicate with P for the place: 在P + verb, except 住在P. "live" takes
// no "every day" and not "at home" (both read oddly).
const verbs = [
  { en: "work", third: "works", zh: "在P工作" },
  { en: "study", third: "studies", zh: "在P学习" },
  { en: "eat", third: "eats", zh: "在P吃饭" },
  { en: "play", third: "plays", zh: "在P玩" },
  { en: "read", third: "reads", zh: "在P看书" },
  { en: "live", third: "lives", zh: "住在P", habitual: false, not: ["at home"] },
];

/** Held out as (verb or "be", place): one per predicate, each place at most once, about 13% of the pairs. */
const heldOut = new Set(["be|in Shanghai", "work|in the park", "study|at home", "eat|at school", "live|in Beijing", "play|in CQ", "read|in the library"]);

/** Every sentence pair, split into training and held-out test pairs (generation order: subject, predicate, place, form). */
export function translationPairs(): { train: Pair[]; test: Pair[] } {
  const train: Pair[] = [];
  const test: Pair[] = [];
  for (const s of subjects) {
    const third = s.be === "is";
    const does = third ? "does" : "do";
    for (const p of places) {
      const add = (key: string, pairs: Pair[]) => (heldOut.has(`${key}|${p.en}`) ? test : train).push(...pairs);
      // "am/is/are in PLACE" -> 在PLACE
      add("be", [
        { en: `${s.en} ${s.be} ${p.en}`, zh: `${s.zh}在${p.zh}` },
        { en: `${s.en} ${s.be} not ${p.en}`, zh: `${s.zh}不在${p.zh}` },
      ]);
      for (const v of verbs) {
        if (v.not?.includes(p.en)) continue;
        const zh = v.zh.replace("P", p.zh);
        const pairs = [
          { en: `${s.en} ${third ? v.third : v.en} ${p.en}`, zh: `${s.zh}${zh}` },
          { en: `${s.en} ${does} not ${v.en} ${p.en}`, zh: `${s.zh}不${zh}` },
        ];
        if (v.habitual !== false) pairs.push({ en: `${s.en} ${third ? v.third : v.en} ${p.en} every day`, zh: `${s.zh}每天${zh}` });
        add(v.en, pairs);
      }
    }
  }
  return { train, test };
}

// --- Tokens and vocabularies.

/** English words: split at spaces, punctuation dropped, case kept ("I", "CQ"). */
export const words = (text: string): string[] => text.match(/[^\s.,!?;:]+/g) ?? [];
/** Chinese characters, one token each (spaces and punctuation dropped). */
export const characters = (text: string): string[] => Array.from(text).filter((c) => !/[\s\p{P}]/u.test(c));

function vocab(tokens: Iterable<string>): Vocab {
  const all = [...specials, ...[...new Set(tokens)].sort()];
  return { tokens: all, ids: new Map(all.map((t, i) => [t, i])) };
}

const pairs = translationPairs();
/** Built from the training pairs only; the test pairs use no other token. */
export const sourceVocab: Vocab = vocab(pairs.train.flatMap((p) => words(p.en)));
export const targetVocab: Vocab = vocab(pairs.train.flatMap((p) => characters(p.zh)));
/** The smallest `length` that fits every sentence with its BOS or EOS. */
export const translationLength = Math.max(...[...pairs.train, ...pairs.test].flatMap((p) => [words(p.en).length, characters(p.zh).length])) + 1;

function ids(tokens: string[], v: Vocab, text: string, length: number): number[] {
  if (tokens.length + 1 > length)
    throw new Error(`"${text}" has ${tokens.length} tokens; with its BOS/EOS that is ${tokens.length + 1}, more than the length ${length}`);
  return tokens.map((t) => v.ids.get(t) ?? UNK);
}

/** [length]: the words' ids, EOS, then PAD. */
export function encodeSource(text: string, length: number): Int32Array {
  const out = new Int32Array(length);
  out.set([...ids(words(text), sourceVocab, text, length), EOS]);
  return out;
}

/** Teacher forcing, each [length]: input BOS + characters, output characters + EOS (the input shifted left), PAD after. */
export function encodeTarget(text: string, length: number): { input: Int32Array; output: Int32Array } {
  const t = ids(characters(text), targetVocab, text, length);
  const input = new Int32Array(length);
  const output = new Int32Array(length);
  input.set([BOS, ...t]);
  output.set([...t, EOS]);
  return { input, output };
}

/** Target ids back to Chinese: stops at EOS, skips PAD and BOS; UNK shows as <unk>. */
export function decodeTarget(ids: ArrayLike<number>): string {
  let text = "";
  for (let i = 0; i < ids.length && ids[i] !== EOS; i++) if (ids[i] !== PAD && ids[i] !== BOS) text += targetVocab.tokens[ids[i]] ?? specials[UNK];
  return text;
}

function columns(list: Pair[], length: number): TranslationSet {
  const src = new Int32Array(list.length * length);
  const tgt_in = new Int32Array(list.length * length);
  const tgt_out = new Int32Array(list.length * length);
  list.forEach((p, r) => {
    const { input, output } = encodeTarget(p.zh, length);
    src.set(encodeSource(p.en, length), r * length);
    tgt_in.set(input, r * length);
    tgt_out.set(output, r * length);
  });
  return { count: list.length, columns: { src, tgt_in, tgt_out } };
}

/** The whole data set as model columns of `length` tokens per sentence (at least `translationLength`). */
export function translationData(length: number): { train: TranslationSet; test: TranslationSet; sourceVocab: Vocab; targetVocab: Vocab } {
  if (!Number.isInteger(length) || length < translationLength)
    throw new Error(`translation length ${length} is too short: the longest sentence needs ${translationLength} tokens with its BOS/EOS`);
  return { train: columns(pairs.train, length), test: columns(pairs.test, length), sourceVocab, targetVocab };
}
