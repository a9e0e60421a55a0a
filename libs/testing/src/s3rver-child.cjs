// An S3-protocol server for tests (s3rver: a test server only, never for production), in a process
// of its own so that what it holds is not counted in the test's memory. Tells its parent its port.
'use strict';
const S3rver = require('s3rver');
const [directory, bucket] = process.argv.slice(2);
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
  .run()
  .then(({ port }) => process.send({ port }))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
