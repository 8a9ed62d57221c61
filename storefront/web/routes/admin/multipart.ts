// A small multipart/form-data reader for the import form (a CSV file and a few text fields), so the back
// office needs no upload dependency. The body is read whole, up to a limit, then split on the boundary;
// text fields become req.body (where the CSRF check looks) and files go to res.locals.uploads.
import express, { type RequestHandler, type Response } from 'express';
import { invalid } from '../../../../core/shared/errors.ts';

export interface Upload {
  readonly filename: string;
  readonly data: Buffer;
}

export interface Multipart {
  readonly fields: Record<string, string>;
  readonly files: Record<string, Upload>;
}

/** Parses the body of a multipart/form-data request; throws `invalid` for a malformed one. */
export function parseMultipart(body: Buffer, contentType: string): Multipart {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const token = boundary?.[1] ?? boundary?.[2];
  if (!token)
    throw invalid('The form was not sent as a file upload.', { help: 'Reload the page and try again.' });
  const delimiter = Buffer.from(`--${token}`);
  const fields: Record<string, string> = {};
  const files: Record<string, Upload> = {};
  let position = body.indexOf(delimiter);
  if (position === -1) throw invalid('The upload is incomplete.', { help: 'Send the form again.' });
  for (;;) {
    position += delimiter.length;
    // "--" after a delimiter ends the body.
    if (body.subarray(position, position + 2).toString() === '--') break;
    const headersEnd = body.indexOf('\r\n\r\n', position);
    const next = body.indexOf(delimiter, position);
    if (headersEnd === -1 || next === -1 || headersEnd > next) {
      throw invalid('The upload is incomplete.', { help: 'Send the form again.' });
    }
    const headers = body.subarray(position, headersEnd).toString('utf8');
    // The part's content ends with the CRLF that precedes the next delimiter.
    const content = body.subarray(headersEnd + 4, next - 2);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined) {
      if (filename !== undefined)
        files[name] = { filename: filename.split(/[\\/]/).pop() ?? '', data: content };
      else fields[name] = content.toString('utf8');
    }
    position = next;
  }
  return { fields, files };
}

/** Middleware: reads a multipart form of at most `limit` bytes into req.body and res.locals.uploads. */
export function multipartForm(limit: number): RequestHandler[] {
  return [
    express.raw({ type: 'multipart/form-data', limit }),
    (req, res, next) => {
      if (!Buffer.isBuffer(req.body)) {
        next(invalid('The form was not sent as a file upload.', { help: 'Reload the page and try again.' }));
        return;
      }
      const { fields, files } = parseMultipart(req.body, req.headers['content-type'] ?? '');
      req.body = fields;
      (res.locals as { uploads?: Record<string, Upload> }).uploads = files;
      next();
    },
  ];
}

export function uploadOf(res: Response, name: string): Upload | undefined {
  return (res.locals as { uploads?: Record<string, Upload> }).uploads?.[name];
}
