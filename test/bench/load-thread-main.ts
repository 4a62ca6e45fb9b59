/** Entry of one load thread of {@link runLoadSpread}: runs its share and posts the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { threadMain, type ThreadJob } from './load-threads.js';

parentPort!.postMessage(await threadMain(workerData as ThreadJob));
