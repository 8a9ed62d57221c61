// A strict little XML reader for tests: enough of XML 1.0 to check that a document is well formed
// (one root, tags nested and closed, attributes quoted and unique, no bare < or & in values, only the
// predefined and numeric entities) and to walk it. Plus what FreeSWITCH's mod_xml_curl expects of a
// dialplan answer, and a hunt that picks the extension FreeSWITCH would for a destination number.

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Character data directly inside the element, trimmed. */
  readonly text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Parses a whole document; throws with the offset of the first problem. */
export function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(
      `XML not well formed at ${at}: ${what} (near ${JSON.stringify(source.slice(at, at + 30))})`,
    );
  };
  const skipSpace = () => {
    while (at < source.length && /\s/.test(source[at]!)) at++;
  };
  const decode = (text: string): string => {
    if (text.includes('<')) fail('a bare < in character data or an attribute');
    return text.replace(/&([^;]*);|&/g, (match, entity: string | undefined) => {
      if (entity === undefined) return fail('a bare &');
      if (entity in ENTITIES) return ENTITIES[entity]!;
      const numeric = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(entity);
      if (!numeric) return fail(`an unknown entity &${entity};`);
      return String.fromCodePoint(parseInt(numeric[1] ?? numeric[2]!, numeric[1] ? 16 : 10));
    });
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at + 4);
        if (end === -1) fail('an unclosed comment');
        at = end + 3;
      } else if (source.startsWith('<?', at)) {
        const end = source.indexOf('?>', at + 2);
        if (end === -1) fail('an unclosed processing instruction');
        at = end + 2;
      } else return;
    }
  };
  const readName = (): string => {
    const match = NAME.exec(source.slice(at));
    if (!match) return fail('a name was expected');
    at += match[0].length;
    return match[0];
  };
  const element = (): XmlElement => {
    if (source[at] !== '<') fail('< was expected');
    at++;
    const name = readName();
    const attributes: Record<string, string> = {};
    for (;;) {
      const before = at;
      skipSpace();
      if (source.startsWith('/>', at)) {
        at += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (source[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('space was expected between attributes');
      const attribute = readName();
      skipSpace();
      if (source[at] !== '=') fail('= was expected');
      at++;
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") return fail('a quoted attribute value was expected');
      const end = source.indexOf(quote, at + 1);
      if (end === -1) fail('an unclosed attribute value');
      if (attribute in attributes) fail(`attribute ${attribute} appears twice`);
      attributes[attribute] = decode(source.slice(at + 1, end));
      at = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = source.indexOf('<', at);
      if (next === -1) fail(`</${name}> is missing`);
      text += decode(source.slice(at, next));
      at = next;
      if (source.startsWith('</', at)) {
        at += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        skipSpace();
        if (source[at] !== '>') fail('> was expected');
        at++;
        return { name, attributes, children, text: text.trim() };
      }
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at + 4);
        if (end === -1) fail('an unclosed comment');
        at = end + 3;
        continue;
      }
      if (source.startsWith('<![CDATA[', at)) {
        const end = source.indexOf(']]>', at);
        if (end === -1) fail('an unclosed CDATA section');
        text += source.slice(at + 9, end);
        at = end + 3;
        continue;
      }
      children.push(element());
    }
  };

  skipMisc();
  const root = element();
  skipMisc();
  if (at !== source.length) fail('content after the root element');
  return root;
}

export interface DialplanExtension {
  readonly name: string;
  readonly field: string;
  readonly expression: string;
  readonly actions: readonly (readonly [application: string, data: string])[];
}

export type FreeswitchAnswer =
  | { readonly kind: 'not found' }
  | {
      readonly kind: 'dialplan';
      readonly context: string;
      readonly extensions: readonly DialplanExtension[];
    };

/**
 * Reads a mod_xml_curl answer, asserting the structure FreeSWITCH requires: <document type="freeswitch/xml">
 * holding either <section name="result"><result status="not found"/> or one <section name="dialplan"> with
 * named contexts, named extensions, conditions with field and expression, and actions with an application.
 */
export function readFreeswitchAnswer(source: string): FreeswitchAnswer {
  const root = parseXml(source);
  const problem = (what: string): never => {
    throw new Error(`not a FreeSWITCH document: ${what}`);
  };
  if (root.name !== 'document' || root.attributes.type !== 'freeswitch/xml') {
    problem('the root must be <document type="freeswitch/xml">');
  }
  if (root.children.length !== 1) problem('the document must hold exactly one <section>');
  const section = root.children[0]!;
  if (section.name !== 'section') problem('the document must hold a <section>');
  if (section.attributes.name === 'result') {
    const result = section.children[0];
    if (
      section.children.length !== 1 ||
      result?.name !== 'result' ||
      result.attributes.status !== 'not found'
    ) {
      problem('a result section must hold <result status="not found"/>');
    }
    return { kind: 'not found' };
  }
  if (section.attributes.name !== 'dialplan') problem('the section must be named dialplan');
  if (section.children.length !== 1 || section.children[0]!.name !== 'context') {
    problem('the dialplan section must hold one <context>');
  }
  const context = section.children[0]!;
  if (!context.attributes.name) problem('the context needs a name');
  const extensions = context.children.map((extension): DialplanExtension => {
    if (extension.name !== 'extension' || !extension.attributes.name) {
      problem('a context holds named <extension> elements');
    }
    if (extension.children.length !== 1 || extension.children[0]!.name !== 'condition') {
      problem(`extension ${extension.attributes.name} must hold one <condition>`);
    }
    const condition = extension.children[0]!;
    const { field, expression } = condition.attributes;
    if (!field || !expression) problem('a condition needs field and expression');
    const actions = condition.children.map((action) => {
      if (action.name !== 'action' || !action.attributes.application) {
        problem('a condition holds <action application=...> elements');
      }
      return [action.attributes.application!, action.attributes.data ?? ''] as const;
    });
    if (actions.length === 0) problem(`extension ${extension.attributes.name} does nothing`);
    return { name: extension.attributes.name!, field: field!, expression: expression!, actions };
  });
  if (new Set(extensions.map((e) => e.name)).size !== extensions.length) problem('extension names repeat');
  return { kind: 'dialplan', context: context.attributes.name!, extensions };
}

/**
 * The extension FreeSWITCH's XML dialplan picks for a destination number: the first whose condition on
 * destination_number matches (our patterns use only what PCRE and JavaScript agree on). null: none does.
 */
export function hunt(answer: FreeswitchAnswer, destination: string): DialplanExtension | null {
  if (answer.kind !== 'dialplan') return null;
  return (
    answer.extensions.find(
      (e) => e.field === 'destination_number' && new RegExp(e.expression).test(destination),
    ) ?? null
  );
}
