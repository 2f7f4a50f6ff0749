-- Run once by the postgres image, on an empty data volume (/docker-entrypoint-initdb.d).
-- Each service owns its own database and its own Alembic migrations; they never share tables.
CREATE DATABASE registration;
CREATE DATABASE notifications;
CREATE DATABASE certificates;
