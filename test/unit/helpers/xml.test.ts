// The tests' XML reader must refuse what FreeSWITCH's parser would, or it proves nothing.
import { describe, expect, it } from 'vitest';
import { parseXml, readFreeswitchAnswer } from '../../helpers/xml.ts';

describe('parseXml', () => {
  it('reads elements, attributes, entities and text', () => {
    const root = parseXml(
      '<?xml version="1.0"?>\n<!-- c --><a x="1" y=\'&lt;&#65;&#x42;\'><b/>t&amp;u<c z="2"></c></a>\n',
    );
    expect(root).toEqual({
      name: 'a',
      attributes: { x: '1', y: '<AB' },
      text: 't&u',
      children: [
        { name: 'b', attributes: {}, children: [], text: '' },
        { name: 'c', attributes: { z: '2' }, children: [], text: '' },
      ],
    });
  });

  it.each([
    ['<a><b></a></b>', /<\/a> closes <b>/],
    ['<a x="1" x="2"/>', /appears twice/],
    ['<a x=1/>', /quoted attribute/],
    ['<a x="&"/>', /bare &/],
    ['<a x="<"/>', /bare </],
    ['<a>&nbsp;</a>', /unknown entity/],
    ['<a/><b/>', /content after the root/],
    ['<a>', /<\/a> is missing/],
    ['<a x="1"y="2"/>', /space was expected/],
  ])('refuses %s', (source, problem) => {
    expect(() => parseXml(source)).toThrow(problem);
  });

  it('refuses documents FreeSWITCH would not take', () => {
    expect(() => readFreeswitchAnswer('<document type="freeswitch/xml"/>')).toThrow(/exactly one <section>/);
    expect(() => readFreeswitchAnswer('<document type="x"><section name="dialplan"/></document>')).toThrow(
      /freeswitch\/xml/,
    );
    expect(() =>
      readFreeswitchAnswer(
        '<document type="freeswitch/xml"><section name="dialplan"><context name="p"><extension name="e"><condition field="destination_number" expression="^1$"/></extension></context></section></document>',
      ),
    ).toThrow(/does nothing/);
  });
});
