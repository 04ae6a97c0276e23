/**
 * credentials: the S3 credentials of every test that talks to s3rver (it accepts any key
 * id and never checks a signature). Distinctive on purpose: the run's teardown
 * (test/setup/secrets.ts) fails the run when any of them, or the secret URL-encoded,
 * appears in a line a Lifeboat process printed. The secret holds `/`, `+` and `=`, as AWS
 * secrets do, so its URL-encoded form differs from it.
 */

/** TEST_ACCESS_KEY_ID is the access key id the tests sign with. */
export const TEST_ACCESS_KEY_ID = 'AKIALBTESTQ7XK2MZ9RW';

/** TEST_SECRET_ACCESS_KEY is the secret the tests sign with. */
export const TEST_SECRET_ACCESS_KEY = 'lbTest/Secr3t+Wq8vN2x=Zk5';

/** TEST_KEYS are the credentials as a replica client's options take them. */
export const TEST_KEYS = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY };

/** TEST_S3_ENV gives a spawned Lifeboat the credentials through the AWS variables. */
export const TEST_S3_ENV = { AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY };

/** SecretForm is a string no Lifeboat output may hold, and what it is. */
export interface SecretForm {
  what: string;
  value: string;
}

/** SECRET_FORMS are the key id, the secret and the secret URL-encoded. */
export const SECRET_FORMS: readonly SecretForm[] = [
  { what: 'the access key id', value: TEST_ACCESS_KEY_ID },
  { what: 'the secret access key', value: TEST_SECRET_ACCESS_KEY },
  { what: 'the secret access key, URL-encoded', value: encodeURIComponent(TEST_SECRET_ACCESS_KEY) },
];
